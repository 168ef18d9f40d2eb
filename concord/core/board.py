"""The coordination board's rules: which situations and tasks it shows, in what order,
what is highlighted, and a situation's timeline. Pure: the web gives it the read model's
values.

- Open situations (not closed) by tension, then severity, then age (oldest first).
- A task is *overdue* past its due time while still open, *undeliverable* when it
  failed or its message fell back from every channel, *delayed* when its message is
  still pending after a retry.
- Filters: area, category, agency, state, and drills (`real` by default, `drill`, `all`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from concord.core.tasks import FINAL
from concord.streams.audit import AuditEntry
from concord.streams.delivery import DeliveryRecord
from concord.streams.reviews import ReviewRecord
from concord.streams.situations import Situation, SituationState
from concord.streams.tasks import Task, TaskState

Drills = Literal["real", "drill", "all"]
Flag = Literal["overdue", "undeliverable", "delayed"]


@dataclass(frozen=True)
class Filters:
    """What the coordinator narrowed the board to (empty: everything)."""

    area: str = ""
    category: str = ""
    agency: str = ""
    state: str = ""
    drills: Drills = "real"

    @classmethod
    def of(cls, query: dict[str, str]) -> Filters:
        """The filters a board request asks for (`?area=&category=&agency=&state=&drills=`)."""
        drills = query.get("drills", "real")
        return cls(
            area=query.get("area", "")[:64],
            category=query.get("category", "")[:64],
            agency=query.get("agency", "")[:64],
            state=query.get("state", "")[:64],
            drills=drills if drills in ("real", "drill", "all") else "real",  # type: ignore[arg-type]
        )

    def drill_ok(self, exercise: bool) -> bool:
        """Whether a situation or task of this kind (drill or real) passes the filter."""
        return self.drills == "all" or (self.drills == "drill") == exercise


@dataclass(frozen=True)
class TaskRow:
    """One task as the board shows it: the task, its delivery, its flags."""

    task: Task
    flags: tuple[Flag, ...]
    delivery: DeliveryRecord | None


@dataclass(frozen=True)
class SituationRow:
    """One situation as the board shows it, with its task rows."""

    situation: Situation
    tasks: list[TaskRow] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Whether any of its tasks is flagged (overdue, undeliverable, delayed)."""
        return any(row.flags for row in self.tasks)


def flags(task: Task, delivery: DeliveryRecord | None, now: datetime) -> tuple[Flag, ...]:
    """What needs a coordinator's eye on this task."""
    found: list[Flag] = []
    if task.due is not None and task.due < now and task.state not in FINAL:
        found.append("overdue")
    if task.state == TaskState.failed or (delivery is not None and delivery.state == "failed"):
        found.append("undeliverable")
    elif delivery is not None and delivery.state == "pending" and delivery.total_attempts > 1:
        found.append("delayed")
    return tuple(found)


def situations(
    items: Iterable[Situation],
    tasks: Iterable[Task],
    delivery_of: dict[str, DeliveryRecord],
    wanted: Filters,
    now: datetime,
) -> list[SituationRow]:
    """The board's rows: open situations that pass the filters, with their tasks.

    `delivery_of`: task id -> the delivery of its message to its current assignee."""
    by_situation: dict[str, list[Task]] = {}
    for task in tasks:
        by_situation.setdefault(task.situation_id, []).append(task)
    task_states = {x.value for x in TaskState}
    rows: list[SituationRow] = []
    for s in items:
        if s.state == SituationState.closed or not wanted.drill_ok(s.exercise):
            continue
        if wanted.area and wanted.area not in (s.areas or [s.area]):
            continue
        if wanted.category and wanted.category not in s.categories:
            continue
        if wanted.state and wanted.state not in task_states and wanted.state != s.state.value:
            continue
        own = sorted(by_situation.get(s.id, []), key=lambda t: (t.created_at, t.id))
        if wanted.agency:
            own = [t for t in own if t.agency == wanted.agency]
        if wanted.state in task_states:
            own = [t for t in own if t.state.value == wanted.state]
        if (wanted.agency or wanted.state in task_states) and not own:
            continue
        shown = [
            TaskRow(t, flags(t, delivery_of.get(t.id), now), delivery_of.get(t.id)) for t in own
        ]
        rows.append(SituationRow(s, shown))
    rows.sort(
        key=lambda r: (-r.situation.tension.score, -r.situation.severity, r.situation.opened_at)
    )
    return rows


#: Audit actions not on the timeline: who looked (not what happened), and the playbooks'
#: decisions (on it already, at the time of the incident that decided them).
VIEWS = ("reports.", "persons.", "playbook.fired", "playbook.suppressed", "playbook.inhibited")


@dataclass(frozen=True)
class Moment:
    """One line of a situation's timeline, in parts a page puts in its reader's words:
    `codes` are codes (categories, states, decisions, audit actions: each one said in
    words, joined by arrows), `task` the task it is about (its title is in the reader's
    language), `name` a name (a playbook), `detail` figures, `note` what a person wrote
    (a reason), `by` who (a person's or an agency's id, or a channel)."""

    at: datetime
    kind: Literal["signal", "decision", "vote", "task", "delivery", "situation"]
    codes: tuple[str, ...] = ()
    task: Task | None = None
    name: str = ""
    detail: str = ""
    note: str = ""
    by: str = ""


def timeline(
    situation: Situation,
    tasks: list[Task],
    review: ReviewRecord | None,
    audit: Iterable[AuditEntry],
    deliveries: Iterable[DeliveryRecord],
) -> list[Moment]:
    """What happened to a situation, oldest first: its signals, the playbooks' decisions,
    the panel's votes, every task transition and every delivery."""
    moments = [
        Moment(
            r.occurred_at,
            "signal",
            (r.category.value,),
            detail=f"{r.severity}/5",
            by=r.source_type,
        )
        for r in situation.signals
    ]
    moments += [
        Moment(
            m.at, "decision", (m.status,), name=m.playbook, detail=f"v{m.version}", note=m.reason
        )
        for m in situation.matches
    ]
    if review is not None:
        moments += [
            Moment(v.at, "vote", (str(v.decision),), detail=f"v{v.version}", by=v.member)
            for v in review.votes
        ]
    by_id = {t.id: t for t in tasks}
    for entry in audit:
        # A reply by email keeps its note (names taken out) as the reason is kept.
        reason = entry.details.get("reason", "") or entry.details.get("note", "")
        if entry.subject in by_id and entry.action.startswith("task."):
            before, after = entry.details.get("before", ""), entry.details.get("after", "")
            codes = (before, after) if before and after else (entry.action,)
            task = by_id[entry.subject]
            moments.append(Moment(entry.at, "task", codes, task, note=reason, by=entry.actor))
        elif entry.subject == situation.id and not entry.action.startswith(VIEWS):
            moments.append(
                Moment(entry.at, "situation", (entry.action,), note=reason, by=entry.actor)
            )
    for d in deliveries:
        if d.subject in by_id:
            when = d.delivered_at or d.updated_at
            moments.append(Moment(when, "delivery", (d.state,), by_id[d.subject], by=d.recipient))
    return sorted(moments, key=lambda m: m.at)
