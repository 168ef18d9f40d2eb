"""An area's history (concord.core.history): what the windows need."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from concord.core.correlation import AreaState
from concord.core.decisions import Rules
from concord.playbooks.matcher import Matcher
from tests.unit.factories import DIRECTORY, MONDAY_NOON_UTC, at, playbook, step_area
from tests.unit.factories import make_signal as signal


def feed(rules: Rules, signals: list[dict[str, Any]]) -> AreaState:
    state = AreaState()
    for i, kw in enumerate(signals):
        state = step_area(state, signal(id=f"s{i}", **kw), rules, MONDAY_NOON_UTC)
    return state


def test_history_keeps_what_the_longest_window_needs_and_no_more() -> None:
    pb = playbook(when={"threshold": {"count": 1, "within": "3d"}})
    rules = Rules(Matcher([pb], DIRECTORY), timedelta(hours=24), history_cap=3)
    state = feed(rules, [{"occurred_at": at(days=-d)} for d in (10, 2.5, 2, 1, 0)])
    assert [t.id for t in state.history] == ["s2", "s3", "s4"]  # cap 3; s0 beyond 3 d
    assert "summary" not in state.history[0].model_dump()  # no text kept
