"""An area fed with signals, for the correlation and situation-command tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from concord.core.correlation import AreaState
from concord.core.decisions import Rules
from tests.unit.factories import make_signal, step_area

#: The clock of these tests.
T0 = datetime(2026, 4, 1, 10, tzinfo=UTC)


def feed(rules: Rules, *specs: tuple[str, str, int]) -> AreaState:
    """The area's state after signals `(id, category, hours after T0)`."""
    state = AreaState()
    for sid, category, hours in specs:
        at = T0 + timedelta(hours=hours)
        state = step_area(state, make_signal(id=sid, category=category, occurred_at=at), rules, T0)
    return state
