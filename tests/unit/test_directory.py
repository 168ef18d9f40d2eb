"""The directory (concord.directory): positions of errors, the example loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.directory import DirectoryError, load_directory
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
    assert d.on_duty("police") is not None and d.areas_in("city") == {"north", "centre", "south"}
