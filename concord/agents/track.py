"""Track: `concord.task-events` -> the `tasks` table -> task snapshots, messages, notices.

Every change of a task (created, released, delivered, acknowledged, declined, done,
escalated, reassigned, cancelled) arrives here keyed by task id, so one worker applies a
task's changes in order and is the only writer of the `tasks` table, whose changelog is
what the board's read model reads of tasks (and of its snapshots on `concord.task-state`,
written only when a webhook subscriber takes task events: the publish stage reads them).
The rules are `concord.core.track.handle`. A task ready to go, a notice, the update of
its Slack message are composed here and posted to the delivery stage, which reports
back (`delivered`); this agent never waits on a carrier. When a task goes to someone
else, or ends, the message that gave it to the previous person is withdrawn if it has
not reached them yet. Escalation and reminder deadlines are in the table; a Faust timer
scans it and sends `tick` events, so they survive a restart.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import faust

from concord.agents import publish
from concord.agents.stage import consume, every
from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core.refusal import Refused
from concord.core.tasks import FINAL
from concord.core.track import Dispatch, Effect, Emit, Publish, Tell, UpdateSlack, handle
from concord.delivery.compose import Compose
from concord.streams.delivery import task_message_key
from concord.streams.patches import trace
from concord.streams.tables import Shape, Table
from concord.streams.tasks import TASKS_TABLE, TaskEvent, TrackRecord
from concord.worker.runtime import Flow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tracking:
    """What the track stage reads and writes."""

    flow: Flow
    directory: Directory
    compose: Compose
    #: task id -> the task, its history, its deadlines, its Slack messages, dependents
    records: Table[TrackRecord]
    #: whether a webhook subscriber takes task events: the publish stage then reads
    #: the task's snapshots on `concord.task-state` (the board reads the table's changelog)
    snapshots: bool = False


async def deliver_task(s: Tracking, effect: Dispatch) -> None:
    """Post the task to its assignee; a task nobody in the directory can take fails."""
    task = effect.task
    outgoing = s.compose.task_message(task, utcnow())
    trace.info("track: %s dispatched as %s", task.id, outgoing.key if outgoing else None)
    if outgoing is not None:
        await s.flow.post(outgoing)
        return
    # The directory no longer knows the assignee: the task shows it failed, never dropped.
    failed = TaskEvent(task_id=task.id, action="delivered", ok=False)
    await s.flow.topics.task_events.send(key=task.id, value=failed)
    await s.flow.audit("concord", "task.unassignable", task.id, agency=task.agency)


async def tell(s: Tracking, effect: Tell) -> None:
    """Carry out a `Tell`: the notice to its recipients through the delivery stage."""
    task = effect.task
    notices = s.compose.notices(effect.kind, task, effect.to, effect.note, utcnow(), effect.at)
    for outgoing in notices:
        await s.flow.post(outgoing)
    if len(notices) < len(effect.to):  # gone from the directory: the audit still names them
        log.warning("task %s: %s notice for someone not in the directory", task.id, effect.kind)
    await s.flow.audit(
        "concord", f"task.notice.{effect.kind}", task.id, to=",".join(effect.to), note=effect.note
    )


async def carry_out(s: Tracking, effect: Effect, changes: int) -> None:
    """Carry out one effect of the track rules (`core.track`)."""
    if isinstance(effect, Publish):
        if s.snapshots:
            await s.flow.topics.task_state.send(key=effect.task.id, value=effect.task)
    elif isinstance(effect, Dispatch):
        await deliver_task(s, effect)
    elif isinstance(effect, Emit):
        await s.flow.topics.task_events.send(key=effect.event.task_id, value=effect.event)
    elif isinstance(effect, Tell):
        await tell(s, effect)
    elif isinstance(effect, UpdateSlack):
        now = utcnow()
        update = s.compose.slack_update(
            effect.task, effect.ref, effect.actor, effect.shown_to, changes, now
        )
        if update is not None:  # the state is recorded either way; the message may lag
            await s.flow.post(update)
    elif isinstance(effect, Refused):
        log.info("task event refused: %s", effect.reason)


async def withdraw_moot(s: Tracking, before: TrackRecord | None, after: TrackRecord) -> None:
    """The task went to someone else, or ended: its message to the previous holder is
    moot if it has not reached them yet."""
    old = before.task if before is not None else None
    new = after.task
    if old is None or new is None or not old.assignee:
        return
    ended = new.state in FINAL
    if new.assignee != old.assignee or (ended and old.state != new.state):
        why = f"task {new.state.value}" if ended else f"task given to {new.assignee}"
        await s.flow.withdraw(task_message_key(new.id, old.assignee), why)


async def track_one(s: Tracking, event: TaskEvent) -> None:
    """One task event: the rules, their effects, the new record and its audit trail."""
    record = s.records.get(event.task_id)
    after, effects = handle(record, event, s.directory, utcnow())
    changes = len(after.history) if after is not None else 0
    for effect in effects:
        await carry_out(s, effect, changes)
    if after is None or after == record:
        refused = next((e.reason for e in effects if isinstance(e, Refused)), None)
        if refused is not None:
            await s.flow.audit(
                event.actor,
                "task.refused",
                event.task_id,
                via=event.via,
                event=event.action,
                reason=refused,
            )
        return
    s.records[event.task_id] = after
    await withdraw_moot(s, record, after)
    done = len(record.history) if record else 0
    for step in after.history[done:]:
        await s.flow.audit(
            step.actor,
            f"task.{step.action}",
            event.task_id,
            via=step.via,
            before=step.before,
            after=step.after,
            assignee=step.assignee or "",
            reason=step.reason or "",
        )


async def send_ticks(s: Tracking) -> None:
    """A `tick` for every escalation or reminder deadline that has passed."""
    now = utcnow()
    for key, deadlines in s.records.project("deadlines", _deadlines):
        for deadline in deadlines:
            if deadline <= now:
                tick = TaskEvent(task_id=key, action="tick", deadline=deadline)
                await s.flow.topics.task_events.send(key=key, value=tick)


def _deadlines(stored: Any) -> tuple[datetime, ...]:
    """A stored task's escalation and reminder deadlines (the scan's projection)."""
    found = (stored.get("escalate_at"), stored.get("remind_at"))
    return tuple(datetime.fromisoformat(value) for value in found if value)


async def run(s: Tracking, stream: Any) -> None:
    """The track stage's loop over `concord.task-events`."""
    topic = s.flow.topics.task_events
    await consume(s.flow, "track", topic, stream, functools.partial(track_one, s))


def register(
    app: faust.App,
    flow: Flow,
    directory: Directory,
    compose: Compose,
    shape: Shape,
    tick_seconds: float,
) -> None:
    """Create the track stage's table and bind its agent and its deadline timer."""
    table = Table(app, TASKS_TABLE, TrackRecord, shape)
    s = Tracking(flow, directory, compose, table, snapshots=publish.takes(directory, "task"))
    app.agent(flow.topics.task_events.channel, name="concord.track")(functools.partial(run, s))
    every(app, tick_seconds, "task deadlines", functools.partial(send_ticks, s))
