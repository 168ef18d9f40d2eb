"""Votes of the expert panel, and the stamp a released task carries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, AwareDatetime, Field

from concord.common.types import Strict, utcnow


class Decision(StrEnum):
    """A panel member's vote: approve, amend, reject, or a declared conflict of interest."""

    approve = "approve"
    amend = "amend"
    reject = "reject"
    conflict = "conflict"


#: How a member voted.
VoteVia = Literal["web", "slack", "email", "api"]

#: The decisions a member must give a reason for: dissent is kept with its reasons.
NEEDS_REASON = frozenset({Decision.reject, Decision.amend})


def missing_reason(decision: Decision, reason: str) -> str | None:
    """Why a vote is incomplete without its reason (None: it is complete). Checked where
    a vote comes in (`VoteIn`) and where it is counted (`concord.core.tally`)."""
    if decision in NEEDS_REASON and not reason.strip():
        return f"a {decision} vote needs a reason"
    return None


class Vote(Strict):
    """One panel member's vote on one version of a situation's analysis."""

    member: str
    decision: Decision
    version: int = Field(ge=1, description="the analysis version voted on")
    reason: str = Field("", max_length=4000)
    via: VoteVia = Field("api", validation_alias=AliasChoices("via", "channel"))
    at: AwareDatetime = Field(default_factory=utcnow)


class ReviewStamp(Strict):
    """On a released task: the analysis version and the votes behind it."""

    analysis_version: int
    released_by: Literal["panel", "time_limit"]
    approvals: list[str] = Field(default_factory=list)
    dissent: list[Vote] = Field(default_factory=list)
    at: datetime
