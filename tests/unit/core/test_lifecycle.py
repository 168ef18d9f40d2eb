"""The situation lifecycle (concord.core.lifecycle), pinned as a literal table."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest

from concord.core.lifecycle import IllegalTransition, move
from concord.streams.situations import SituationState

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)

#: Written out here, not read from the implementation: a wrong table fails this test.
ALLOWED = {
    "open": {"under_review", "responding", "monitoring", "closed"},
    "under_review": {"responding", "monitoring", "closed"},
    "responding": {"under_review", "monitoring", "closed"},
    "monitoring": {"under_review", "responding", "closed"},
    "closed": set(),
}


def test_lifecycle_transitions_are_exactly_the_allowed_ones(situation_factory) -> None:  # type: ignore[no-untyped-def]
    for current, wanted in product(SituationState, SituationState):
        s = situation_factory().model_copy(update={"state": current})
        if current == wanted:
            assert move(s, wanted, T0) is s
        elif wanted in ALLOWED[current]:
            assert move(s, wanted, T0).state == wanted
        else:
            with pytest.raises(IllegalTransition, match=f"is {current}: it cannot become"):
                move(s, wanted, T0)
    assert set(ALLOWED) == {state.value for state in SituationState}
