"""Publish: what other systems are told, through their webhook subscriptions.

The stage reads the snapshots the flow already writes (situations, tasks, reviews) and
the validated signals, and tells each subscriber what happened: a situation opened,
changed or closed; a task created, acknowledged, declined, done, escalated or failed; a
review decided; a report received. `handle(seen, snapshot) -> (seen, happened)` is the
pure step (`seen` is what the stage last told about that situation, task or review), and
`deliveries` cuts what happened per subscriber into messages for the delivery stage.

What a subscriber gets is codes, counts, times and the playbook's task titles: never a
person, never what someone wrote in a report. An event's id is made from its subject,
type and snapshot time, so a replay after a crash makes the same event and the delivery
stage sends it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from concord.config.channels import EventType, Subscription
from concord.core.cap import MsgType
from concord.streams.delivery import Event, Message, Outgoing, Recipient
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import Signal
from concord.streams.situations import Situation, SituationState
from concord.streams.tasks import Task

#: Task states that are an event of their own.
TASK_EVENTS: dict[str, EventType] = {
    "acknowledged": "task.acknowledged",
    "declined": "task.declined",
    "done": "task.done",
    "escalated": "task.escalated",
    "failed": "task.failed",
}
#: CloudEvents types are reverse-DNS: `org.concord.task.done`.
PREFIX = "org.concord."
#: How long a subscriber's event is retried before the coordinators are told.
HORIZON = timedelta(hours=24)

Snapshot = Situation | Task | ReviewRecord


@dataclass(frozen=True)
class Happened:
    """An event before it is cut per subscriber."""

    type: EventType
    subject: str
    time: datetime
    data: dict[str, object]
    exercise: bool
    agency: str | None = None  # a task's agency (agency-bound subscriptions)
    situation: Situation | None = None  # situation events: for CAP alerts

    @property
    def id(self) -> str:
        """Deterministic: the same snapshot makes the same event."""
        return f"{self.subject}.{self.type}.{int(self.time.timestamp() * 1000)}"


def _situation_marker(s: Situation) -> str:
    cats = ",".join(sorted(c.value for c in s.categories))
    return f"{s.state.value}|{len(s.signals)}|{s.severity}|{cats}|{','.join(s.areas)}"


def _situation_data(s: Situation) -> dict[str, object]:
    return {
        "situation": s.id,
        "state": s.state.value,
        "area": s.area,
        "areas": list(s.areas or [s.area]),
        "categories": [c.value for c in s.categories],
        "bias": [b.value for b in s.bias],
        "severity": s.severity,
        "tension": s.tension.level,
        "signals": len(s.signals),
        "opened_at": s.opened_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
        "exercise": s.exercise,
    }


def of_situation(seen: str | None, s: Situation) -> tuple[str, list[Happened]]:
    """Opened (first seen), closed (now closed), changed (what subscribers see differs)."""
    marker = _situation_marker(s)
    closed = s.state == SituationState.closed
    was_closed = seen is not None and seen.startswith(f"{SituationState.closed.value}|")
    kind: EventType | None = None
    if seen is None:
        kind = "situation.closed" if closed else "situation.opened"
    elif closed and not was_closed:
        kind = "situation.closed"
    elif marker != seen and not closed:
        kind = "situation.changed"
    if kind is None:
        return marker, []
    data = _situation_data(s)
    return marker, [Happened(kind, s.id, s.updated_at, data, s.exercise, situation=s)]


def of_task(seen: str | None, t: Task) -> tuple[str, list[Happened]]:
    """Created (first seen), then each state that is an event of its own."""
    kind: EventType | None = "task.created" if seen is None else None
    if seen is not None and seen != t.state.value:
        kind = TASK_EVENTS.get(t.state.value)
    if kind is None:
        return t.state.value, []
    data: dict[str, object] = {
        "task": t.id,
        "situation": t.situation_id,
        "agency": t.agency,
        "state": t.state.value,
        "title": t.title,
        "area": t.area,
        "severity": t.severity,
        "urgent": t.urgent,
        "due": t.due.isoformat() if t.due else None,
        "updated_at": t.updated_at.isoformat(),
        "exercise": t.exercise,
    }
    return t.state.value, [Happened(kind, t.id, t.updated_at, data, t.exercise, t.agency)]


def of_review(seen: str | None, r: ReviewRecord) -> tuple[str, list[Happened]]:
    """Decided: the outcome leaves `pending`."""
    if r.outcome == "pending" or seen == r.outcome:
        return r.outcome, []
    data: dict[str, object] = {
        "situation": r.situation_id,
        "outcome": r.outcome,
        "version": r.version,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "exercise": r.exercise,
    }
    at = r.decided_at or r.updated_at
    return r.outcome, [Happened("review.decided", r.situation_id, at, data, r.exercise)]


def of_report(signal: Signal) -> list[Happened]:
    """A report (a validated signal) received: its codes and times, nothing it says."""
    data: dict[str, object] = {
        "signal": signal.id,
        "kind": signal.kind.value,
        "category": signal.category.value,
        "bias": [b.value for b in signal.bias],
        "severity": signal.severity,
        "area": signal.area,
        "source_type": signal.source_type,
        "occurred_at": signal.occurred_at.isoformat(),
        "received_at": signal.received_at.isoformat(),
        "exercise": signal.exercise,
    }
    return [Happened("report.received", signal.id, signal.received_at, data, signal.exercise)]


def remembered_as(snapshot: Snapshot) -> str:
    """The stage's table key for what it last told about this snapshot's subject."""
    if isinstance(snapshot, Situation):
        return f"situation|{snapshot.id}"
    if isinstance(snapshot, Task):
        return f"task|{snapshot.id}"
    return f"review|{snapshot.situation_id}"


def handle(seen: str | None, snapshot: Snapshot) -> tuple[str, list[Happened]]:
    """The stage's step: what a snapshot tells subscribers, and what to remember."""
    if isinstance(snapshot, Situation):
        return of_situation(seen, snapshot)
    if isinstance(snapshot, Task):
        return of_task(seen, snapshot)
    return of_review(seen, snapshot)


def wants(hook: Subscription, happened: Happened) -> bool:
    """Whether a subscriber gets this event: its types, its agency, its format."""
    if happened.type not in hook.events:
        return False
    if hook.format == "cap" and happened.situation is None:
        return False  # a CAP alert is about a situation
    if hook.agency is not None:
        return happened.agency == hook.agency  # only that agency's tasks
    return True


CapOf = Callable[[Situation, MsgType], str]
CAP_TYPES: dict[str, MsgType] = {
    "situation.opened": "Alert",
    "situation.changed": "Update",
    "situation.closed": "Cancel",
}


def deliveries(
    happened: list[Happened],
    hooks: list[Subscription],
    to: Callable[[Subscription], Recipient],
    cap: CapOf,
    now: datetime,
) -> list[Outgoing]:
    """One message per event and subscriber that wants it."""
    out: list[Outgoing] = []
    for h in happened:
        for hook in (x for x in hooks if wants(x, h)):
            alert = None
            if hook.format == "cap" and h.situation is not None:
                alert = cap(h.situation, CAP_TYPES[h.type])
            event = Event(
                id=h.id, type=PREFIX + h.type, subject=h.subject, time=h.time, data=h.data,
                cap=alert,
            )  # fmt: skip
            message = Message(
                key=f"{h.id}.{hook.id}",
                recipient=to(hook),
                subject=h.type,
                text="",
                exercise=h.exercise,
                event=event,
            )
            out.append(
                Outgoing(
                    kind="event",
                    subject=h.subject,
                    order=h.subject,  # one subject's events reach a subscriber in order
                    message=message,
                    channels=["webhook"],
                    deadline=now + HORIZON,
                    created_at=now,
                    # A system's endpoint down is on /healthz and the metrics; people are
                    # told about messages to people, not about every event.
                    tell_on_failure=False,
                    label=f"{h.type} {h.subject} → {hook.id}",
                )
            )
    return out
