"""Live reload of playbooks in a running worker, on the real broker."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from concord.embedded.outbox import Outbox
from tests.conftest import Worker, make_signal, wait_until
from tests.integration.helpers import emails_for, task_of

pytestmark = pytest.mark.integration

PLAYBOOK = """\
id: live-test
version: {version}
title: Live reload test
when:
  tags: [live-reload-test]
tasks:
  - id: check
    agency: schools
    title: Live reload check v{version}
    action: Version {version} for {{{{ area.name }}}}.
"""


def versions(worker: Worker) -> dict[str, Any]:
    body = worker.request("GET", "/healthz").body
    return dict(body["playbook_versions"])


def write(path: Path, text: str) -> None:
    # A new mtime even when two writes fall in the same clock tick.
    path.write_text(text)
    stamp = time.time_ns() + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def playbooks_dir(worker: Worker) -> Iterator[Path]:
    folder = Path(worker.env["CONCORD_PLAYBOOKS"])
    shipped = versions(worker)
    yield folder
    for name in ("live-test.yml", "broken.yml"):
        (folder / name).unlink(missing_ok=True)
    wait_until(lambda: versions(worker) == shipped, timeout=30)


def fire(worker: Worker, tokens: dict[str, str], outbox: Outbox) -> tuple[dict[str, Any], str]:
    """Send a signal only the test playbook matches; its task's email text."""
    signal = make_signal(category="other", severity=1, tags=["live-reload-test"])
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    mail = outbox.wait_for(lambda o: emails_for(o, task_of(signal, "live-test", "check")))[0]
    return signal, mail.text


def test_a_valid_change_goes_live_and_a_bad_one_is_refused(
    worker: Worker, tokens: dict[str, str], outbox: Outbox, playbooks_dir: Path
) -> None:
    refused_before = worker.metric('concord_playbook_reloads_total{outcome="refused"}')
    write(playbooks_dir / "live-test.yml", PLAYBOOK.format(version=1))
    wait_until(lambda: versions(worker).get("live-test") == 1, timeout=30)

    _, text = fire(worker, tokens, outbox)
    assert "Version 1 for Quartier Nord." in text

    # A broken file: refused with its problems logged; the last good set stays live.
    write(playbooks_dir / "broken.yml", "id: broken\ntitle: B\ntasks: []\n")
    wait_until(
        lambda: worker.metric('concord_playbook_reloads_total{outcome="refused"}') > refused_before,
        timeout=30,
    )
    assert "broken.yml:3:8: tasks: List should have at least 1 item" in worker.log.read_text()
    assert versions(worker).get("live-test") == 1
    assert "broken" not in versions(worker)
    second, text = fire(worker, tokens, outbox)
    assert "Version 1 for Quartier Nord." in text

    # Fixed and edited: version 2 goes live, and its tasks say which version fired.
    (playbooks_dir / "broken.yml").unlink()
    write(playbooks_dir / "live-test.yml", PLAYBOOK.format(version=2))
    wait_until(lambda: versions(worker).get("live-test") == 2, timeout=30)
    third, text = fire(worker, tokens, outbox)
    assert "Version 2 for Quartier Nord." in text

    def task(signal: dict[str, Any]) -> dict[str, Any] | None:
        wanted = task_of(signal, "live-test", "check")
        r = worker.request("GET", "/api/tasks?agency=schools", token=tokens["coordinator"])
        return next((t for t in r.body if t["id"] == wanted), None) if r.status == 200 else None

    old, new = wait_until(lambda: task(second)), wait_until(lambda: task(third))
    assert (old["playbook_version"], new["playbook_version"]) == (1, 2)
    assert old["playbook_revision"]
    assert old["playbook_revision"] != new["playbook_revision"]
