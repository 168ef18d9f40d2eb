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
