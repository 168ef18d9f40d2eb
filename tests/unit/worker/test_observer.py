"""concord.observer: narration never breaks a stage, and prints outside text literally."""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console

from concord.streams.audit import DeadLetter
from concord.worker.observer import Budget, Observer, RichObserver, guarded
from tests.unit.factories import Clock
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


def test_a_burst_prints_the_budget_then_sums_up_the_rest_and_failures_always_show() -> None:
    clock = Clock()
    console = Console(record=True, width=200, color_system=None)
    observer = RichObserver(console, Budget(3, clock))

    async def burst() -> None:
        for i in range(10):
            observer.signal(signal(id=f"s{i}"))
        observer.deadletter(DeadLetter(reason="not JSON", original="x", original_size=1, topic="t"))
        assert observer._summary_due  # the summary is due a second later
        observer.flush()

    asyncio.run(burst())
    lines = console.export_text().splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["s0", "s1", "s2"]
    assert lines[3].startswith("dead-letter not JSON")
    assert lines[4] == "… and 7 signals (not shown one by one: see the board)"
    assert len(lines) == 5
    clock.now += 1.0  # a new second: lines again
    observer.signal(signal(id="s10"))
    assert console.export_text().splitlines() == [
        "signal s10 hate_crime severity 3 in " + lines[0].split(" in ")[1]
    ]


def test_without_an_event_loop_what_is_held_back_is_summed_up_at_once() -> None:
    console = Console(record=True, width=200, color_system=None)
    observer = RichObserver(console, Budget(1, Clock()))
    observer.signal(signal(id="a"))
    observer.signal(signal(id="b"))
    text = console.export_text()
    assert "signal a " in text
    assert "signal b " not in text
    assert "… and 1 signal (not shown" in text
