"""concord.observer: narration never breaks a stage, and prints outside text literally."""

from __future__ import annotations

import pytest
from rich.console import Console

from concord.worker.observer import Observer, RichObserver, guarded
from tests.unit.factories import make_signal as signal


def test_markup_in_an_id_is_printed_literally() -> None:
    console = Console(record=True, width=200, color_system=None)
    RichObserver(console).signal(signal(id="drill-report[/]42 [bold]x"))
    text = console.export_text()
    assert "signal drill-report[/]42 [bold]x hate_crime" in text


def test_a_failing_observer_is_logged_and_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Observer):
        def signal(self, signal: object) -> None:
            raise RuntimeError("console gone")

    safe = guarded(Broken())
    safe.signal(signal())  # no exception
    assert "observer signal failed" in caplog.text
    assert guarded(safe) is safe


def test_guarded_passes_every_hook_through() -> None:
    seen: list[str] = []

    class Recording(Observer):
        def reloaded(self, summary: str, problems: list[str]) -> None:
            seen.append(summary)

    guarded(Recording()).reloaded("8 playbooks", [])
    assert seen == ["8 playbooks"]
