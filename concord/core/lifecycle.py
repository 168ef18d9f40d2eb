"""A situation's life: `open -> under_review -> responding -> monitoring -> closed`. Pure.

- `open`: signals are being correlated; no response decided yet.
- `under_review`: a playbook that needs the panel fired; the analysis awaits its votes.
- `responding`: tasks are out (no review needed, or the panel approved).
- `monitoring`: the panel rejected the proposed response, or the response is done; the
  situation stays visible and new signals may reopen a review.
- `closed`: by a coordinator; tasks still open are cancelled. Nothing leaves `closed`.
"""

from __future__ import annotations

from datetime import datetime

from concord.streams.situations import Situation, SituationState

S = SituationState

ALLOWED: dict[SituationState, frozenset[SituationState]] = {
    S.open: frozenset({S.under_review, S.responding, S.monitoring, S.closed}),
    S.under_review: frozenset({S.responding, S.monitoring, S.closed}),
    S.responding: frozenset({S.under_review, S.monitoring, S.closed}),
    S.monitoring: frozenset({S.under_review, S.responding, S.closed}),
    S.closed: frozenset(),
}


class IllegalTransition(ValueError):
    """A state change the lifecycle does not allow."""

    def __init__(self, situation_id: str, current: SituationState, wanted: SituationState):
        allowed = ", ".join(sorted(ALLOWED[current])) or "none"
        super().__init__(
            f"situation {situation_id} is {current}: it cannot become {wanted} (allowed: {allowed})"
        )


def move(situation: Situation, to: SituationState, at: datetime) -> Situation:
    """The situation in state `to`; staying in the same state is a no-op."""
    if situation.state == to:
        return situation
    if to not in ALLOWED[situation.state]:
        raise IllegalTransition(situation.id, situation.state, to)
    return situation.model_copy(update={"state": to, "updated_at": at})
