"""The directory (concord.directory): positions of errors, the example loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from concord.config.directory import DirectoryError, json_schema, load_directory
from tests.unit.factories import ROOT


def test_directory_errors_have_positions(tmp_path: Path) -> None:
    bad = tmp_path / "d.yml"
    bad.write_text(
        "city: {name: X, timezone: Mars/Olympus}\nareas:\n  - {code: a, name: A, neighbours: [z]}\n"
        "agencies:\n  - id: p\n    name: P\n    role: police\n    liaisons:\n"
        "      - {id: l, name: L, email: not-an-email}\n"
    )
    with pytest.raises(DirectoryError) as exc:
        load_directory(bad)
    text = str(exc.value)
    assert f"{bad}:1:7: city: Value error, unknown time zone 'Mars/Olympus'" in text
    assert f"{bad}:9:33: agencies.0.liaisons.0.email:" in text


def test_example_directory_loads() -> None:
    d = load_directory(ROOT / "directory.yml")
    assert d.on_duty("police") is not None
    assert d.areas_in("city") == {"north", "centre", "south"}


def test_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "directory.schema.json").read_text())
    assert on_disk == json_schema(), "run `make schema` and commit directory.schema.json"
    assert on_disk["additionalProperties"] is False  # extra="forbid": a typo is an error


def test_validate_prints_every_problem_at_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "directory.yml"
    bad.write_text("city:\n  name: X\n  timezone: Mars/Olympus\nareas: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "concord.cli", "directory", "validate", str(bad)],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    out = result.stdout.decode()
    assert f"{bad}:2:3: city: Value error, unknown time zone 'Mars/Olympus'" in out
    assert f"{bad}:4:8: areas:" in out
    assert f"{bad}:1:1: agencies: missing field 'agencies'" in out


CITY = (
    "city: {name: X}\nareas:\n  - {code: a, name: A}\nagencies:\n  - id: p\n    name: P\n"
    "    role: police\n"
)


def _problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "d.yml"
    path.write_text(text)
    with pytest.raises(DirectoryError) as exc:
        load_directory(path)
    return str(exc.value).replace(str(path), "d.yml")


def test_a_webhook_url_written_in_the_directory_is_refused(tmp_path: Path) -> None:
    text = CITY + "    teams_webhook: https://x.logic.azure.com/workflows/1?sig=abc\n"
    text += "    liaisons: [{id: l, name: L}]\n"
    out = _problems(tmp_path, text)
    assert "d.yml:8:20: agencies.0.teams_webhook:" in out  # never the URL: where it is kept


def test_a_liaison_needs_an_address_of_its_own_or_its_agencys(tmp_path: Path) -> None:
    out = _problems(tmp_path, CITY + "    liaisons: [{id: l, name: L}]\n")
    assert "liaison 'l' needs an address" in out
    shared = CITY + "    channels: [teams]\n    teams_webhook: {env: TEAMS_P}\n"
    path = tmp_path / "ok.yml"
    path.write_text(shared + "    liaisons: [{id: l, name: L}]\n")
    assert load_directory(path).agencies[0].chat_channels() == ["teams"]


def test_webhook_subscriptions_are_checked(tmp_path: Path) -> None:
    base = CITY + "    liaisons: [{id: l, name: L, email: l@x.example}]\nwebhooks:\n"
    out = _problems(tmp_path, base + "  - {id: h, url: ftp://x, secret: {env: S}, agency: q}\n")
    assert "d.yml:10:18: webhooks.0.url: Value error, must be an http(s) URL" in out
    out = _problems(tmp_path, base + "  - {id: h, url: https://x.example, secret: {env: S}, "
                    "agency: q, events: [task.exploded]}\n")  # fmt: skip
    assert "webhooks.0.events.0:" in out
    out = _problems(tmp_path, base + "  - {id: h, url: https://x.example, secret: {env: S}, "
                    "agency: q}\n")  # fmt: skip
    assert "webhook 'h': unknown agency 'q'" in out
