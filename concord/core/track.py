"""The track stage: `handle(record, event) -> (record, effects)` for one task. Pure.

Rules, on top of the state machine of `concord.core.tasks`:

- A task is *ready* when nothing holds it: not the panel (`awaiting`), and every
  prerequisite done (or declined, when the playbook releases on decline). A ready
  pending task is dispatched.
- A prerequisite tells its dependents when it ends (`done` or `declined`); a dependent
  registers with its prerequisites when created (`depend`), whatever the order the
  events arrive in: news for a task not created yet is kept on a stub record.
- Delivered: the task is `assigned` (or `failed` when no channel could deliver it); the
  escalation clock starts (`escalate_after`), and the reminder (`due - remind_before`).
- `ack` stops escalation. `done` tells the dependents. `decline` (with its reason) tells
  the coordinators and the dependents; when the playbook names a `fallback` agency, the
  task is reassigned to that agency's liaison on duty and dispatched to them.
- At `escalate_at`, an unacknowledged task goes to the next person of its chain (the
  agency's liaisons, then `escalate_to`), who gets it at once; the clock starts again.
  At the end of the chain it stays where it is and the coordinators are told.
- `repeat`: its playbook's conditions held again for a later signal of the situation.
  The task answers that signal too (its `signals`, `areas`, `area`); whoever has it in
  hand is told (a notice, and its Slack message shows the new places); a task that has
  ended tells the coordinators instead; a task not yet dispatched goes out with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from concord.config.directory import Directory
from concord.core.refusal import Refused
from concord.core.tasks import IllegalTaskTransition, escalates, is_open, transition
from concord.streams.tasks import Step, Task, TaskEvent, TaskState, TrackRecord


@dataclass(frozen=True)
class Publish:
    """The task's new snapshot for `concord.task-state`."""

    task: Task


@dataclass(frozen=True)
class Dispatch:
    """Deliver the task to its (new) assignee."""

    task: Task


@dataclass(frozen=True)
class Emit:
    """Tell another task (its dependents, its prerequisites)."""

    event: TaskEvent


TellKind = Literal[
    "declined", "escalated", "unassignable", "reminder", "released_with_note", "repeat"
]


@dataclass(frozen=True)
class Tell:
    """Tell people about the task: the coordinators, or the assignee (reminder)."""

    kind: TellKind
    task: Task
    to: list[str]
    note: str = ""
    at: datetime | None = None  # repeat: when the new incident happened


@dataclass(frozen=True)
class UpdateSlack:
    """Show the task's new state on the Slack message that announced it."""

    task: Task
    ref: str
    actor: str
    shown_to: str = ""  # whose message it is (its language)


Effect = Publish | Dispatch | Emit | Tell | UpdateSlack | Refused
Result = tuple[TrackRecord | None, list[Effect]]


def ready(record: TrackRecord) -> bool:
    """Whether nothing holds the task back any more."""
    task = record.task
    if task is None or task.state != TaskState.pending or task.awaiting is not None:
        return False
    for prerequisite in task.depends_on:
        outcome = record.prerequisites.get(prerequisite)
        if outcome is None or (outcome == "declined" and not task.release_on_decline):
            return False
    return True


def handle(
    record: TrackRecord | None, event: TaskEvent, directory: Directory, now: datetime
) -> Result:
    """The task's record after `event`, and what must happen because of it."""
    if event.action in ("depend", "prerequisite", "created"):
        return _news(record or TrackRecord(), event, now)
    if record is None or record.task is None:
        return record, [Refused(f"unknown task {event.task_id}")]
    if event.action == "release":
        return _release(record, event)
    if event.action == "delivered":
        return _delivered(record, event, directory, now)
    if event.action == "tick":
        return _tick(record, event, directory, now)
    if event.action == "repeat":
        return _repeat(record, event, directory, now)
    return _act(record, event, directory, now)


def _news(record: TrackRecord, event: TaskEvent, now: datetime) -> Result:
    effects: list[Effect] = []
    if event.action == "depend" and event.dependent:
        if event.dependent in record.dependents:
            return record, []
        record = record.model_copy(update={"dependents": [*record.dependents, event.dependent]})
        ended = _outcome(record.task)
        if ended is not None and record.task is not None:  # it ended before they asked
            effects.append(Emit(_tell_dependent(record.task, event.dependent, ended, now)))
        return record, effects
    if event.action == "prerequisite" and event.prerequisite and event.outcome:
        if record.prerequisites.get(event.prerequisite) == event.outcome:
            return record, []
        prerequisites = {**record.prerequisites, event.prerequisite: event.outcome}
        record = record.model_copy(update={"prerequisites": prerequisites})
        return _maybe_dispatch(record, effects, event)
    if event.action == "created" and event.task is not None:
        if record.task is not None:  # replayed
            # The stage may have stopped between recording the task and dispatching it
            # (its offset was not committed yet): a task that still waits only for its
            # dispatch is dispatched again; delivery is once per message key.
            if record.task.state == TaskState.pending:
                return _maybe_dispatch(record, [], event)
            return record, []
        task = event.task
        record = record.model_copy(update={"task": task})
        effects.append(Publish(task))
        for prerequisite in task.depends_on:
            depend = TaskEvent(task_id=prerequisite, action="depend", dependent=task.id, at=now)
            effects.append(Emit(depend))
        return _maybe_dispatch(record, effects, event)
    return record, []


def _maybe_dispatch(record: TrackRecord, effects: list[Effect], event: TaskEvent) -> Result:
    task = record.task
    if task is None or not ready(record):
        return record, effects
    effects = [*effects, Dispatch(task)]
    declined = [p for p, o in record.prerequisites.items() if o == "declined"]
    if declined and event.action == "prerequisite" and task.assignee:
        # The liaison gets the task, then the note of why it comes without its prerequisite.
        note = f"released although prerequisite {', '.join(declined)} was declined"
        record = record.model_copy(update={"notes": [*record.notes, note]})
        effects.append(Tell("released_with_note", task, [task.assignee], note))
    return record, effects


def _release(record: TrackRecord, event: TaskEvent) -> Result:
    assert record.task is not None
    if event.task is None or record.task.awaiting is None:
        return record, []  # replayed, or not held
    task = record.task.model_copy(
        update={"awaiting": None, "review": event.task.review, "updated_at": event.at}
    )
    record = record.model_copy(update={"task": task})
    return _maybe_dispatch(record, [Publish(task)], event)


def _delivered(
    record: TrackRecord, event: TaskEvent, directory: Directory, now: datetime
) -> Result:
    task = record.task
    assert task is not None
    refs = dict(record.slack_refs)
    if event.slack_ref and task.assignee:
        refs[task.assignee] = event.slack_ref
    assignees = list(
        dict.fromkeys([*record.assignees, *([task.assignee] if task.assignee else [])])
    )
    record = record.model_copy(update={"slack_refs": refs, "assignees": assignees})
    effects: list[Effect] = []
    if task.state == TaskState.pending:
        action: Literal["assign", "fail"] = "assign" if event.ok else "fail"
        task = transition(task, action, now).model_copy(update={"deliveries": event.channels})
        record = _step(record, task, event, action, TaskState.pending)
        effects.append(Publish(task))
        if not event.ok:
            effects.append(Tell("unassignable", task, _coordinators(directory)))
            return record, effects
    elif not event.ok:
        effects.append(Tell("unassignable", task, _coordinators(directory)))
    return _clocks(record, now), effects


def _clocks(record: TrackRecord, now: datetime) -> TrackRecord:
    """Start the escalation clock (and the reminder) for a task that reached someone."""
    task = record.task
    assert task is not None
    escalate_at = now + task.escalate_after if escalates(task) and task.escalate_after else None
    remind_at = record.remind_at
    if task.due is not None and task.remind_before is not None and remind_at is None:
        remind_at = max(now, task.due - task.remind_before)
    return record.model_copy(update={"escalate_at": escalate_at, "remind_at": remind_at})


def _act(record: TrackRecord, event: TaskEvent, directory: Directory, now: datetime) -> Result:
    task = record.task
    assert task is not None
    before, shown_to = task.state, task.assignee or ""
    if event.action == "cancel" and not is_open(task) and task.state != TaskState.declined:
        return record, []  # already over
    try:
        if event.action == "reassign":
            found = directory.liaison(event.assignee or "")
            agency = found[0].id if found else None
            task = transition(task, "reassign", now, assignee=event.assignee, agency=agency)
        elif event.action in ("ack", "decline", "done", "cancel"):
            task = transition(task, event.action, now, reason=event.reason)
        else:
            return record, [Refused(f"unknown action {event.action}")]
    except IllegalTaskTransition as exc:
        return record, [Refused(str(exc))]
    record = _step(record, task, event, event.action, before)
    effects: list[Effect] = [Publish(task)]
    ref = record.slack_refs.get(shown_to)
    if ref:
        effects.append(UpdateSlack(task, ref, event.actor, shown_to))
    if event.action == "ack":
        record = record.model_copy(update={"escalate_at": None})
    elif event.action in ("done", "cancel"):
        record = record.model_copy(update={"escalate_at": None, "remind_at": None})
    if event.action in ("done", "decline"):
        outcome: Literal["done", "declined"] = "done" if event.action == "done" else "declined"
        effects += [Emit(_tell_dependent(task, d, outcome, now)) for d in record.dependents]
    if event.action == "decline":
        note = f"declined by {event.actor}: {event.reason}"
        effects.append(Tell("declined", task, _coordinators(directory), note))
        record = record.model_copy(update={"escalate_at": None})
        return _fallback(record, task, directory, now, effects)
    if event.action == "reassign":
        record = _clocks(record.model_copy(update={"remind_at": None}), now)
        effects.append(Dispatch(task))
    return record, effects


def _repeat(record: TrackRecord, event: TaskEvent, directory: Directory, now: datetime) -> Result:
    task = record.task
    assert task is not None
    if not event.signal or event.signal in task.signals:
        return record, []  # replayed
    area = event.area or task.area
    areas = task.areas if area in task.areas else [*task.areas, area]
    updated = task.model_copy(
        update={
            "signals": [*task.signals, event.signal],
            "areas": areas,
            "area": area,
            "occurred_at": event.occurred_at or task.occurred_at,
        }
    )
    updated = updated.model_copy(update={"updated_at": now})
    record = _step(record, updated, event, "repeat", task.state)
    effects: list[Effect] = [Publish(updated)]
    if is_open(task) and task.state != TaskState.pending and task.assignee:
        effects.append(Tell("repeat", updated, [task.assignee], at=event.occurred_at))
        ref = record.slack_refs.get(task.assignee)
        if ref:
            effects.append(UpdateSlack(updated, ref, event.actor, task.assignee))
    elif not is_open(task):
        effects.append(Tell("repeat", updated, _coordinators(directory), at=event.occurred_at))
    return record, effects


def _fallback(
    record: TrackRecord, task: Task, directory: Directory, now: datetime, effects: list[Effect]
) -> Result:
    duty = directory.on_duty(task.fallback) if task.fallback else None
    if duty is None or task.fallback == task.agency:
        return record, effects
    moved = transition(task, "reassign", now, assignee=duty.id, agency=task.fallback)
    event = TaskEvent(task_id=task.id, action="reassign", actor="concord", assignee=duty.id)
    record = _step(record, moved, event, "reassign", task.state)
    record = _clocks(record, now)
    return record, [*effects, Publish(moved), Dispatch(moved)]


def _tick(record: TrackRecord, event: TaskEvent, directory: Directory, now: datetime) -> Result:
    task = record.task
    assert task is not None
    reminded: list[Effect] = []
    if event.deadline is not None and event.deadline == record.remind_at:
        record = record.model_copy(update={"remind_at": None})
        if is_open(task) and task.state != TaskState.pending and task.assignee:
            reminded.append(Tell("reminder", task, [task.assignee]))
    if event.deadline is None or event.deadline != record.escalate_at or not escalates(task):
        return record, reminded  # a deadline that moved (acknowledged, escalated meanwhile)
    record, effects = _escalate(record, task, directory, now)
    return record, [*reminded, *effects]


def _escalate(
    record: TrackRecord, task: Task, directory: Directory, now: datetime
) -> tuple[TrackRecord, list[Effect]]:
    chain = directory.chain(task.agency, task.escalate_to)
    tried = set(record.assignees) | {task.assignee}
    following = [p for p in chain if p not in tried]
    if not following:
        record = record.model_copy(update={"escalate_at": None})
        note = f"no acknowledgement from anyone in the chain ({', '.join(chain)})"
        return record, [Tell("escalated", task, _coordinators(directory), note)]
    moved = transition(task, "escalate", now, assignee=following[0])
    step = TaskEvent(task_id=task.id, action="tick", actor="concord", assignee=following[0])
    record = _step(record, moved, step, "escalate", task.state)
    record = _clocks(record, now)
    effects: list[Effect] = [Publish(moved), Dispatch(moved)]
    if following[0] in {c.id for c in directory.coordinators}:
        effects.append(Tell("escalated", moved, [following[0]], "escalated to the coordinator"))
    return record, effects


def _outcome(task: Task | None) -> Literal["done", "declined"] | None:
    if task is None:
        return None
    if task.state == TaskState.done:
        return "done"
    return "declined" if task.state == TaskState.declined else None


def _tell_dependent(
    task: Task, dependent: str, outcome: Literal["done", "declined"], now: datetime
) -> TaskEvent:
    return TaskEvent(
        task_id=dependent, action="prerequisite", prerequisite=task.id, outcome=outcome, at=now
    )


def _coordinators(directory: Directory) -> list[str]:
    return [c.id for c in directory.coordinators]


def _step(
    record: TrackRecord, task: Task, event: TaskEvent, action: str, before: TaskState
) -> TrackRecord:
    step = Step(
        at=task.updated_at,
        action=action,
        actor=event.actor,
        via=event.via,
        before=str(before),
        after=str(task.state),
        assignee=task.assignee,
        reason=event.reason,
    )
    return record.model_copy(update={"task": task, "history": [*record.history, step]})
