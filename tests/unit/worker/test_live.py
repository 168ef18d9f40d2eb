"""The playbooks in force (concord.live): live reload keeps the last good set."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from concord.worker.live import LivePlaybooks
from tests.unit.factories import DIRECTORY

DAY = timedelta(hours=24)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_live_reload_applies_a_valid_change_and_keeps_the_last_good_set(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yml",
        "id: p\ntitle: P\ntasks:\n  - {id: t, agency: police, title: T, action: x}\n",
    )
    live = LivePlaybooks(tmp_path, DIRECTORY, DAY)
    assert live.reload().ok
    assert live.poll().outcome == "unchanged"
    first_revision = live.rules.revisions["p"]
    write(path, path.read_text().replace("title: P", "version: 2\ntitle: P2"))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert live.poll().outcome == "applied"
    assert live.matcher.by_id["p"].version == 2
    assert live.rules.revisions["p"] != first_revision
    old = live.get("p", 1)
    assert old is not None
    assert old.title == "P"
    write(tmp_path / "bad.yml", "id: bad\ntitle: B\ntasks: []\n")
    refused = live.poll()
    assert refused.outcome == "refused"
    assert "bad.yml:3:8" in refused.problems[0]
    assert list(live.matcher.by_id) == ["p"]
    assert live.matcher.by_id["p"].version == 2
    (tmp_path / "bad.yml").unlink()
    assert live.poll().outcome == "unchanged"  # back to the set in force
