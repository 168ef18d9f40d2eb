"""The panel's tally (concord.core.tally): quorum, versions, dissent, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from concord.core.tally import Decision, ReviewError, Vote, check_vote, tally

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


PANEL = ["ana", "koen", "lea"]


def vote(member: str, decision: str, version: int = 1, minutes: int = 0, reason: str = "r") -> Vote:
    return Vote(
        member=member,
        decision=Decision(decision),
        version=version,
        reason=reason,
        at=T0 + timedelta(minutes=minutes),
    )


def test_quorum_of_approvals_on_the_current_version() -> None:
    assert tally([vote("ana", "approve")], 1, 2, PANEL).outcome == "pending"
    t = tally([vote("ana", "approve"), vote("koen", "approve")], 1, 2, PANEL)
    assert (t.outcome, t.approvals, t.missing) == ("approved", ["ana", "koen"], 0)
    # Votes on an older version do not count for an amended one.
    t = tally([vote("ana", "approve", 1), vote("koen", "approve", 2)], 2, 2, PANEL)
    assert (t.outcome, t.approvals) == ("pending", ["koen"])


def test_an_amendment_approves_the_version_it_makes() -> None:
    votes = [vote("ana", "amend", 2), vote("koen", "approve", 2)]
    assert tally(votes, 2, 2, PANEL).outcome == "approved"


def test_rejection_dissent_and_the_latest_vote_counting() -> None:
    votes = [
        vote("ana", "reject", reason="the analysis ignores the rumour"),
        vote("koen", "reject"),
        vote("lea", "approve"),
    ]
    t = tally(votes, 1, 2, PANEL)
    assert t.outcome == "rejected"
    assert [(v.member, v.decision) for v in t.dissent] == [("lea", Decision.approve)]
    # Ana changes her mind later: her latest vote counts.
    t = tally([*votes, vote("ana", "approve", minutes=5)], 1, 2, PANEL)
    assert t.outcome == "approved"
    assert [v.member for v in t.dissent] == ["koen"]
    # Two rejections of three leave one possible approval: quorum 2 cannot be reached.
    assert tally(votes[:2], 1, 2, PANEL).outcome == "rejected"
    # Once decided, a later vote is counted and its dissent kept; the decision stays.
    late = [*votes[:2], vote("lea", "approve", minutes=9), vote("ana", "approve", minutes=10)]
    t = tally(late, 1, 2, PANEL, decided="rejected")
    assert t.outcome == "rejected"
    assert t.approvals == ["ana", "lea"]
    assert [v.member for v in t.dissent] == ["ana", "lea"]


def test_conflicts_do_not_count_and_can_leave_no_quorum() -> None:
    votes = [vote("ana", "conflict"), vote("koen", "approve")]
    t = tally(votes, 1, 2, PANEL)
    assert (t.outcome, t.conflicts, t.approvals) == ("pending", ["ana"], ["koen"])
    assert tally([*votes, vote("lea", "approve")], 1, 2, PANEL).outcome == "approved"
    both = [vote("ana", "conflict"), vote("koen", "conflict")]
    assert tally(both, 1, 2, PANEL).outcome == "no_quorum"
    assert tally([vote("mallory", "approve"), vote("eve", "approve")], 1, 2, PANEL).approvals == []


def test_votes_that_cannot_be_taken() -> None:
    with pytest.raises(ReviewError, match="version 3 does not exist"):
        check_vote(vote("ana", "approve", 3), [], 2)
    with pytest.raises(ReviewError, match="vote on version 2"):
        check_vote(vote("ana", "approve", 1), [], 2)
    with pytest.raises(ReviewError, match="needs a reason"):
        check_vote(vote("ana", "reject", reason=" "), [], 1)
    with pytest.raises(ReviewError, match="conflict of interest"):
        check_vote(vote("ana", "approve", minutes=1), [vote("ana", "conflict")], 1)
    check_vote(vote("ana", "conflict", 1), [], 2)  # a conflict may name any version
