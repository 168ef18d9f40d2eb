"""The panel's gate: open, vote, amend, decide, time limit (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from concord.config.directory import Directory
from concord.core.amend import AmendError, amend
from concord.core.gate import MAX_REMINDERS, handle, propose
from concord.core.gate_effects import Cancel, Effect, Hold, MoveSituation, Notify, Release
from concord.core.planning import plan_tasks
from concord.core.refusal import Refused
from concord.playbooks.schema import Playbook
from concord.streams.reviews import Amendment, ReviewEvent, ReviewRecord
from concord.streams.situations import SituationState
from concord.streams.tasks import TaskState
from concord.streams.votes import Decision, Vote
from tests.unit.core.reviewing import PANEL, T0


def vote(
    member: str, decision: str, version: int = 1, minutes: int = 1, reason: str = ""
) -> ReviewEvent:
    return ReviewEvent(
        situation_id="sit-1",
        kind="vote",
        vote=Vote(
            member=member,
            decision=Decision(decision),
            version=version,
            reason=reason,
            at=T0 + timedelta(minutes=minutes),
        ),
    )


def of(effects: list[Effect], kind: type) -> list[Effect]:
    return [e for e in effects if isinstance(e, kind)]


def test_two_approvals_release_every_task_stamped(opened: ReviewRecord) -> None:
    record, effects = handle(opened, vote("ana", "approve"), PANEL, T0)
    assert effects == []
    assert record is not None
    assert record.outcome == "pending"
    record, effects = handle(record, vote("koen", "approve", minutes=2), PANEL, T0)
    assert record is not None
    assert record.outcome == "approved"
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    assert {t.task_key for t in release.tasks} == {"protect", "support", "schools-watch"}
    for task in release.tasks:
        assert task.awaiting is None
        assert task.review is not None
        assert task.review.analysis_version == 1
        assert task.review.approvals == ["ana", "koen"]
        assert task.review.released_by == "panel"
    assert MoveSituation(SituationState.responding, "the panel approved the analysis") in effects
    assert Notify("approved", 1) in effects
    assert record.deadline is None
    assert len(record.released) == 3


def test_rejection_cancels_and_moves_to_monitoring(opened: ReviewRecord) -> None:
    record, _ = handle(opened, vote("ana", "reject", reason="no racist motive"), PANEL, T0)
    record, effects = handle(record, vote("koen", "reject", 1, 2, "agreed"), PANEL, T0)
    assert record is not None
    assert record.outcome == "rejected"
    assert of(effects, Release) == []
    (cancel,) = of(effects, Cancel)
    assert isinstance(cancel, Cancel)
    assert {t.state for t in cancel.tasks} == {TaskState.cancelled}
    assert MoveSituation(SituationState.monitoring, "the panel rejected the analysis") in effects
    # A late approval is recorded as dissent and changes nothing.
    record, effects = handle(record, vote("lea", "approve", minutes=3), PANEL, T0)
    assert record is not None
    assert record.outcome == "rejected"
    assert effects == []
    assert [v.member for v in record.dissent] == ["lea"]
    assert len(record.votes) == 3


def test_dissent_is_kept_with_its_reason(opened: ReviewRecord) -> None:
    record, _ = handle(opened, vote("lea", "reject", reason="the rumour came first"), PANEL, T0)
    record, _ = handle(record, vote("ana", "approve", minutes=2), PANEL, T0)
    record, effects = handle(record, vote("koen", "approve", minutes=3), PANEL, T0)
    assert record is not None
    assert record.outcome == "approved"
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    stamp = release.tasks[0].review
    assert stamp is not None
    assert [(v.member, v.reason) for v in stamp.dissent] == [("lea", "the rumour came first")]


def test_conflicts_and_bad_votes_are_refused_or_not_counted(opened: ReviewRecord) -> None:
    record, effects = handle(opened, vote("mallory", "approve"), PANEL, T0)
    assert effects == [Refused("mallory is not on the panel", by="mallory")]
    record, effects = handle(opened, vote("ana", "approve", version=2), PANEL, T0)
    assert isinstance(effects[0], Refused)
    assert "version 2 does not exist" in effects[0].reason
    record, _ = handle(opened, vote("ana", "conflict"), PANEL, T0)
    record, _ = handle(record, vote("koen", "approve", minutes=2), PANEL, T0)
    assert record is not None
    assert record.outcome == "pending"
    assert record.conflicts == ["ana"]
    record, effects = handle(record, vote("ana", "approve", minutes=3), PANEL, T0)
    assert isinstance(effects[0], Refused)
    assert "conflict" in effects[0].reason
    record, effects = handle(record, vote("lea", "approve", minutes=4), PANEL, T0)
    assert record is not None
    assert record.outcome == "approved"
    # Replaying the same vote event does nothing.
    again, effects = handle(record, vote("lea", "approve", minutes=4), PANEL, T0)
    assert again == record
    assert effects == []


def test_time_limit_urgent_only_releases_urgent_tasks_and_reminds(opened: ReviewRecord) -> None:
    assert opened.deadline is not None
    at = opened.deadline + timedelta(seconds=1)
    stale = ReviewEvent(situation_id="sit-1", kind="tick", deadline=T0)
    assert handle(opened, stale, PANEL, at) == (opened, [])
    tick = ReviewEvent(situation_id="sit-1", kind="tick", deadline=opened.deadline)
    record, effects = handle(opened, tick, PANEL, at)
    assert record is not None
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    assert [t.task_key for t in release.tasks] == ["protect"]
    assert release.tasks[0].review is not None
    assert release.tasks[0].review.released_by == "time_limit"
    assert Notify("reminder", 1) in effects
    assert record.deadline == at + timedelta(hours=2)
    assert record.reminders == 1
    # The same tick again: the deadline has moved, nothing happens.
    assert handle(record, tick, PANEL, at) == (record, [])
    # Approval later releases the rest, not the urgent task a second time.
    record, _ = handle(record, vote("ana", "approve"), PANEL, at)
    record, effects = handle(record, vote("koen", "approve", minutes=2), PANEL, at)
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    assert sorted(t.task_key for t in release.tasks) == ["schools-watch", "support"]


def test_hold_only_reminds(opened: ReviewRecord) -> None:
    held = opened.model_copy(
        update={
            "versions": [
                opened.current.model_copy(
                    update={
                        "proposals": [
                            p.model_copy(update={"at_limit": "hold"})
                            for p in opened.current.proposals
                        ]
                    }
                )
            ]
        }
    )
    tick = ReviewEvent(situation_id="sit-1", kind="tick", deadline=held.deadline)
    record, effects = handle(held, tick, PANEL, T0 + timedelta(hours=3))
    assert effects == [Notify("reminder", 1)]
    assert record is not None
    assert record.released == []
    assert record.reminders == 1


def test_a_silent_panel_is_reminded_then_the_coordinators_are_told(opened: ReviewRecord) -> None:
    record: ReviewRecord | None = opened
    kinds: list[str] = []
    for _ in range(MAX_REMINDERS):
        assert record is not None
        assert record.deadline is not None
        tick = ReviewEvent(situation_id="sit-1", kind="tick", deadline=record.deadline)
        record, effects = handle(record, tick, PANEL, record.deadline + timedelta(seconds=1))
        kinds += [e.kind for e in effects if isinstance(e, Notify)]
    assert kinds == ["reminder"] * MAX_REMINDERS + ["stalled"]
    assert record is not None
    assert record.reminders == MAX_REMINDERS
    assert record.deadline is None
    assert record.outcome == "pending"
    # The panel can still decide after the stall.
    record, _ = handle(record, vote("ana", "approve"), PANEL, T0 + timedelta(days=1))
    record, effects = handle(record, vote("koen", "approve", minutes=2), PANEL, T0)
    assert record is not None
    assert record.outcome == "approved"
    assert of(effects, Release)


def test_amendment_makes_a_version_that_needs_new_votes(
    opened: ReviewRecord, playbooks: dict[str, Playbook], directory: Directory
) -> None:
    record, _ = handle(opened, vote("lea", "approve"), PANEL, T0)
    assert record is not None
    change = Amendment(
        severity=5,
        drop_tasks=["schools-watch"],
        add_tasks=[{"agency": "youth", "title": "Street work", "action": "Talk to youths"}],
        note="Severity raised: second assault this month.",
    )
    v2 = amend(record, change, "ana", playbooks.get, directory, T0)
    assert v2.version == 2
    assert v2.severity == 5
    assert v2.by == "ana"
    keys = sorted(t.task_key for t in v2.tasks())
    assert keys == ["protect", "support", "v2-1"]
    protect = next(t for t in v2.tasks() if t.task_key == "protect")
    assert "5/5" in protect.action  # planned again with the panel's severity
    assert v2.notes == ["ana: Severity raised: second assault this month."]
    event = vote("ana", "amend", version=1, minutes=2, reason="second assault")
    record, effects = handle(record, event, PANEL, T0, amended=v2)
    assert record is not None
    assert record.version == 2
    assert record.outcome == "pending"
    (hold,) = of(effects, Hold)
    (cancel,) = of(effects, Cancel)
    assert isinstance(hold, Hold)
    assert isinstance(cancel, Cancel)
    assert [t.task_key for t in hold.tasks] == ["v2-1"]
    assert [t.task_key for t in cancel.tasks] == ["schools-watch"]
    assert handle(record, event, PANEL, T0, amended=v2) == (record, [])  # replayed
    # Lea approved version 1: it does not count for version 2.
    assert record.approvals == ["ana"]
    record, effects = handle(record, vote("koen", "approve", 2, 3), PANEL, T0)
    assert record is not None
    assert record.outcome == "approved"
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    assert sorted(t.task_key for t in release.tasks) == ["protect", "support", "v2-1"]


def test_bad_amendments_name_the_field(
    opened: ReviewRecord, playbooks: dict[str, Playbook], directory: Directory
) -> None:
    cases = [
        (Amendment(drop_tasks=["nope"]), "amendment.drop_tasks.0"),
        (Amendment(add_playbooks=["nope"]), "amendment.add_playbooks.0"),
        (Amendment(add_playbooks=["racist-assault"]), "amendment.add_playbooks.0"),
        (Amendment(remove_playbooks=["rumour"]), "amendment.remove_playbooks.0"),
        (Amendment(remove_playbooks=["racist-assault"]), "amendment"),
        (
            Amendment(add_tasks=[{"agency": "nasa", "title": "t", "action": "a"}]),
            "amendment.add_tasks.0.agency",
        ),
    ]
    for change, loc in cases:
        with pytest.raises(AmendError) as info:
            amend(opened, change, "ana", playbooks.get, directory, T0)
        assert info.value.loc == loc, (change, info.value)
    with pytest.raises(ValueError, match="must change something"):
        Amendment()


@pytest.fixture
def second_playbook(
    opened: ReviewRecord, playbooks: dict[str, Playbook], directory: Directory
) -> ReviewEvent:
    """A second review playbook firing for the same situation on a later signal."""
    pb = playbooks["rising-tension-demonstration"]
    situation = opened.situation.model_copy(update={"last_signal": "s2"})
    return ReviewEvent(
        situation_id="sit-1",
        kind="open",
        situation=situation,
        proposal=propose(pb, plan_tasks(situation, pb, directory, T0)),
    )


def test_a_second_playbook_joins_the_pending_review(
    opened: ReviewRecord, second_playbook: ReviewEvent
) -> None:
    event = second_playbook
    record, _ = handle(opened, vote("ana", "approve"), PANEL, T0)
    record, effects = handle(record, event, PANEL, T0)
    assert record is not None
    assert record.version == 2
    assert [p.playbook for p in record.current.proposals] == [
        "racist-assault",
        "rising-tension-demonstration",
    ]
    assert Notify("amended", 2) in effects
    assert record.approvals == []
    # Replayed: nothing new.
    assert handle(record, event, PANEL, T0) == (record, [])


def test_a_new_playbook_after_a_stall_starts_a_new_round_of_reminders(
    opened: ReviewRecord, second_playbook: ReviewEvent
) -> None:
    stalled = opened.model_copy(update={"reminders": MAX_REMINDERS, "deadline": None})
    later = T0 + timedelta(days=1)
    record, _ = handle(stalled, second_playbook, PANEL, later)
    assert record is not None
    assert record.reminders == 0
    assert record.deadline is not None
    assert record.deadline > later


def test_no_quorum_tells_the_coordinators_and_the_time_limit_still_acts(
    opened: ReviewRecord,
) -> None:
    record, _ = handle(opened, vote("ana", "conflict"), PANEL, T0)
    record, effects = handle(record, vote("koen", "conflict", minutes=2), PANEL, T0)
    assert record is not None
    assert record.outcome == "no_quorum"
    assert effects == [Notify("no_quorum", 1)]
    assert record.deadline == opened.deadline
    assert record.deadline is not None
    tick = ReviewEvent(situation_id="sit-1", kind="tick", deadline=record.deadline)
    record, effects = handle(record, tick, PANEL, record.deadline)
    (release,) = of(effects, Release)
    assert isinstance(release, Release)
    assert [t.task_key for t in release.tasks] == ["protect"]


def test_a_repeated_identical_vote_is_not_stored_again(opened: ReviewRecord) -> None:
    record, _ = handle(opened, vote("ana", "approve", minutes=1), PANEL, T0)
    for minute in (2, 3, 4):  # the same approval, sent again (a double click, a retry)
        again, effects = handle(record, vote("ana", "approve", minutes=minute), PANEL, T0)
        assert again == record
        assert effects == []
    assert record is not None
    assert len(record.votes) == 1


def test_a_replayed_click_never_outranks_what_the_member_did_after_it(
    opened: ReviewRecord,
) -> None:
    approve = vote("ana", "approve", minutes=1)  # a Slack click, dated by Slack
    record, _ = handle(opened, approve, PANEL, T0)
    record, _ = handle(record, vote("ana", "reject", minutes=3, reason="not racist"), PANEL, T0)
    replayed, effects = handle(record, approve, PANEL, T0)  # the captured request again
    assert replayed == record
    assert effects == []
    assert record is not None
    assert record.rejections == ["ana"]
    assert record.approvals == []


def test_a_signal_that_joins_under_review_makes_a_new_version_and_old_votes_stale(
    opened: ReviewRecord,
) -> None:
    situation = opened.situation
    joined = situation.signals[0].model_copy(update={"id": "s2", "area": "south", "severity": 5})
    now = situation.model_copy(
        update={"signals": [*situation.signals, joined], "severity": 5, "last_signal": "s2"}
    )
    event = ReviewEvent(situation_id=situation.id, kind="joined", situation=now)
    record, effects = handle(opened, event, PANEL, T0 + timedelta(minutes=5))
    assert record is not None
    assert record.version == 2
    assert effects == [Notify("amended", 2)]
    assert record.current.changes == ["signal s2 joined: hate_crime in south, severity 5"]
    assert record.current.severity == 5
    assert record.situation == now
    assert record.current.proposals == opened.current.proposals  # the same response
    # Replayed, or a snapshot with nothing new: nothing.
    assert handle(record, event, PANEL, T0 + timedelta(minutes=6)) == (record, [])
    # A vote on version 1 is refused as stale; on version 2 it counts.
    stale = Vote(member="ana", decision=Decision.approve, version=1, at=T0)
    voted, said = handle(
        record, ReviewEvent(situation_id=situation.id, kind="vote", vote=stale), PANEL, T0
    )
    assert voted == record
    assert len(said) == 1
    assert isinstance(said[0], Refused)
    assert "vote on version 2" in said[0].reason


def test_a_signal_that_joins_after_the_decision_opens_nothing(opened: ReviewRecord) -> None:
    decided = opened.model_copy(update={"outcome": "approved"})
    situation = opened.situation
    more = situation.model_copy(
        update={
            "signals": [*situation.signals, situation.signals[0].model_copy(update={"id": "x"})]
        }
    )
    event = ReviewEvent(situation_id=situation.id, kind="joined", situation=more)
    assert handle(decided, event, PANEL, T0) == (decided, [])
    assert handle(None, event, PANEL, T0) == (None, [])
