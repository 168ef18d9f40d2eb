"""The expert panel's review of a situation analysis: votes, quorum, dissent. Pure.

Rules (ECCAR commitment 10: the analysis is validated before responses are defined):

- Each panel member's latest vote counts; votes of people who are not panel members
  are refused before they get here.
- `approve` and `reject` count for the analysis version they name; a vote on an older
  version does not count for a newer one (the member votes again).
- `amend` makes a new version (severity, playbook, tasks or a note changed) and counts
  as that member's approval of the new version.
- `conflict` (a declared conflict of interest) removes the member from the eligible
  panel for this situation: it counts neither way, whatever version.
- The review is `approved` when approvals of the current version reach the quorum,
  `rejected` when rejections reach the quorum or approvals can no longer reach it, and
  `no_quorum` when conflicts leave fewer eligible members than the quorum (the
  coordinator must then act). Otherwise it is `pending`.
- Dissent is kept: the votes on the current version that disagree with the outcome are
  listed with their reasons, and every vote stays on the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from concord.streams.votes import Decision, Vote, missing_reason

__all__ = ["Decision", "ReviewError", "Tally", "Vote", "check_vote", "latest_votes", "tally"]


Outcome = Literal["pending", "approved", "rejected", "no_quorum"]


@dataclass(frozen=True)
class Tally:
    """Where a review stands."""

    outcome: Outcome
    version: int
    quorum: int
    approvals: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    dissent: list[Vote] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Approvals still needed for the quorum."""
        return max(0, self.quorum - len(self.approvals))


class ReviewError(ValueError):
    """A vote that cannot be taken (unknown version, a member who declared a conflict)."""


def latest_votes(votes: Iterable[Vote]) -> dict[str, Vote]:
    """Each member's latest vote (by time, then by arrival)."""
    out: dict[str, Vote] = {}
    for vote in votes:
        current = out.get(vote.member)
        if current is None or vote.at >= current.at:
            out[vote.member] = vote
    return out


def check_vote(vote: Vote, votes: Iterable[Vote], version: int) -> None:
    """Refuse a vote on a version that does not exist or after a declared conflict."""
    if vote.version > version or vote.version < 1:
        raise ReviewError(f"analysis version {vote.version} does not exist (latest {version})")
    if vote.decision in (Decision.approve, Decision.reject, Decision.amend) and (
        vote.version < version
    ):
        raise ReviewError(f"version {vote.version} was amended: vote on version {version}")
    missing = missing_reason(vote.decision, vote.reason)
    if missing:
        raise ReviewError(missing)
    previous = latest_votes(votes).get(vote.member)
    if previous is not None and previous.decision == Decision.conflict:
        raise ReviewError("you declared a conflict of interest for this situation")


def tally(
    votes: Iterable[Vote],
    version: int,
    quorum: int,
    members: Iterable[str],
    decided: Outcome | None = None,
) -> Tally:
    """The review's outcome for analysis `version` under `quorum`.

    `decided`: a decision already made stays (a vote after it changes the counts and the
    dissent, never the outcome)."""
    panel = set(members)
    latest = {m: v for m, v in latest_votes(votes).items() if m in panel}
    conflicts = sorted(m for m, v in latest.items() if v.decision == Decision.conflict)
    current = {m: v for m, v in latest.items() if v.version == version}
    approvals = sorted(
        m for m, v in current.items() if v.decision in (Decision.approve, Decision.amend)
    )
    rejections = sorted(m for m, v in current.items() if v.decision == Decision.reject)
    eligible = len(panel) - len(conflicts)
    outcome: Outcome = "pending"
    if eligible < quorum:
        outcome = "no_quorum"
    elif len(approvals) >= quorum:
        outcome = "approved"
    elif len(rejections) >= quorum or eligible - len(rejections) < quorum:
        outcome = "rejected"
    if decided is not None:
        outcome = decided
    against = {
        "approved": {Decision.reject},
        "rejected": {Decision.approve, Decision.amend},
    }.get(outcome, set())
    dissent = [v for v in current.values() if v.decision in against]
    return Tally(
        outcome=outcome,
        version=version,
        quorum=quorum,
        approvals=approvals,
        rejections=rejections,
        conflicts=conflicts,
        dissent=sorted(dissent, key=lambda v: v.member),
    )
