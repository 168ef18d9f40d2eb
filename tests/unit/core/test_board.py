"""The board's rules (concord.core.board): order, filters, highlights, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from concord.core.board import Filters, flags, situations, timeline
from concord.streams.audit import AuditEntry
from concord.streams.delivery import DeliveryRecord
from concord.streams.situations import SituationState, Tension
from tests.unit.factories import make_situation, make_task

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def delivery(state: str, attempts: int = 1) -> DeliveryRecord:
    return DeliveryRecord.model_validate(
        {
            "key": "task-1.police-duty",
            "kind": "task",
            "subject": "task-1",
            "recipient": "police-duty",
            "channels": ["slack", "email"],
            "state": state,
            "total_attempts": attempts,
            "deadline": NOW + timedelta(hours=1),
            "created_at": NOW,
            "updated_at": NOW,
        }
    )


def test_open_situations_by_tension_then_severity_then_age() -> None:
    base = make_situation()
    calm = base.model_copy(update={"id": "calm", "tension": Tension(score=1.0, level="low")})
    hot = base.model_copy(update={"id": "hot", "tension": Tension(score=9.0, level="critical")})
    older = calm.model_copy(update={"id": "older", "opened_at": base.opened_at - timedelta(days=1)})
    severe = calm.model_copy(update={"id": "severe", "severity": 5})
    closed = hot.model_copy(update={"id": "closed", "state": SituationState.closed})
    drill = hot.model_copy(update={"id": "drill", "exercise": True})
    rows = situations([calm, hot, older, severe, closed, drill], [], {}, Filters(), NOW)
    assert [r.situation.id for r in rows] == ["hot", "severe", "older", "calm"]
    drills = situations([calm, drill], [], {}, Filters(drills="drill"), NOW)
    assert [r.situation.id for r in drills] == ["drill"]
    both = situations([calm, drill], [], {}, Filters(drills="all"), NOW)
    assert {r.situation.id for r in both} == {"calm", "drill"}


def test_filters_by_area_category_agency_and_either_kind_of_state() -> None:
    north = make_situation().model_copy(update={"id": "n"})
    south = make_situation(area="south", category="rumour").model_copy(update={"id": "s"})
    police = make_task(id="t1", situation_id="n")
    youth = make_task(id="t2", situation_id="s", agency="youth", state="acknowledged")
    items, tasks = [north, south], [police, youth]

    def ids(**kw: str) -> list[str]:
        return [r.situation.id for r in situations(items, tasks, {}, Filters.of(kw), NOW)]

    assert ids(area="south") == ["s"]
    assert ids(category="hate_crime") == ["n"]
    assert ids(agency="youth") == ["s"]
    assert ids(state="acknowledged") == ["s"]  # a task state: situations with such tasks
    assert ids(state="open") == ["n", "s"] or ids(state="open") == ["s", "n"]
    assert ids(state="monitoring") == []
    assert ids(drills="nonsense") == ids()  # a bad value is the default
    only = situations(items, tasks, {}, Filters(agency="youth"), NOW)[0]
    assert [row.task.id for row in only.tasks] == ["t2"]


def test_what_is_highlighted() -> None:
    due = NOW - timedelta(minutes=1)
    assert flags(make_task(due=due), None, NOW) == ("overdue",)
    assert flags(make_task(due=due, state="done"), None, NOW) == ()
    assert flags(make_task(state="failed"), None, NOW) == ("undeliverable",)
    assert flags(make_task(), delivery("failed"), NOW) == ("undeliverable",)
    assert flags(make_task(), delivery("pending", attempts=3), NOW) == ("delayed",)
    assert flags(make_task(), delivery("pending", attempts=1), NOW) == ()
    assert flags(make_task(), delivery("delivered"), NOW) == ()
    row = situations([make_situation()], [make_task(due=due)], {}, Filters(), NOW)[0]
    assert row.flagged


def entry(actor: str, action: str, subject: str, via: str, **details: str) -> AuditEntry:
    """An audit entry made now."""
    return AuditEntry(at=NOW, actor=actor, action=action, subject=subject, via=via, details=details)


def test_the_timeline_tells_the_situation_in_order() -> None:
    sit = make_situation()
    task = make_task(situation_id=sit.id)
    ack = entry("police-duty", "task.ack", task.id, "web", before="assigned", after="acknowledged")
    other = AuditEntry(at=NOW, actor="x", action="task.ack", subject="someone-elses-task")
    moments = timeline(sit, [task], None, [ack, other], [delivery("delivered")])
    kinds = [m.kind for m in moments]
    assert kinds[0] == "signal"
    assert "task" in kinds
    assert "delivery" in kinds
    (moved,) = [m for m in moments if m.kind == "task"]
    assert moved.codes == ("assigned", "acknowledged")
    assert moved.by == "police-duty"
    assert moved.task == task
    assert [m.at for m in moments] == sorted(m.at for m in moments)


def test_the_timeline_leaves_out_readings_and_decisions_told_already() -> None:
    sit = make_situation()
    entries = [
        AuditEntry(at=NOW, actor="coord", action=action, subject=sit.id)
        for action in ("reports.read", "playbook.fired", "playbook.repeated", "situation.split")
    ]
    shown = [m.codes for m in timeline(sit, [], None, entries, []) if m.kind == "situation"]
    assert shown == [("playbook.repeated",), ("situation.split",)]


def test_a_reply_by_email_shows_its_note_on_the_timeline() -> None:
    sit = make_situation()
    task = make_task(situation_id=sit.id)
    replied = entry(
        "vs-duty", "task.replied", task.id, "email",
        message_id="<r1@x>", note="je regarde demain", taken="yes",
    )  # fmt: skip
    (moment,) = [m for m in timeline(sit, [task], None, [replied], []) if m.kind == "task"]
    assert (moment.codes, moment.note, moment.by) == (
        ("task.replied",),
        "je regarde demain",
        "vs-duty",
    )
