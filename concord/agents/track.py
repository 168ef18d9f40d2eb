"""Track: `concord.task-events` -> the `tasks` table -> task snapshots, messages, notices.

Every change of a task (created, released, delivered, acknowledged, declined, done,
escalated, reassigned, cancelled) arrives here keyed by task id, so one worker applies a
task's changes in order and is the only writer of its snapshots on `concord.task-state`.
The rules are `concord.core.track.handle`. A task ready to go, a notice, the update of
its Slack message are composed here and posted to the delivery stage, which reports
back (`delivered`); this agent never waits on a carrier. When a task goes to someone
else, or ends, the message that gave it to the previous person is withdrawn if it has
not reached them yet. Escalation and reminder deadlines are in the table; a Faust timer
scans it and sends `tick` events, so they survive a restart.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume, survives
from concord.core.track import Dispatch, Effect, Emit, Publish, Refused, Tell, UpdateSlack, handle
from concord.streams.codec import dump
from concord.streams.tasks import TaskEvent, TaskState, TrackRecord
from concord.types import utcnow

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)


async def deliver_task(c: Concord, effect: Dispatch) -> None:
    """Post the task to its assignee; a task nobody in the directory can take fails."""
    task = effect.task
    outgoing = c.compose.task_message(task, utcnow())
    if outgoing is not None:
        await c.post(outgoing)
        return
    # The directory no longer knows the assignee: the task shows it failed, never dropped.
    failed = TaskEvent(task_id=task.id, action="delivered", ok=False)
    await c.topics.task_events.send(key=task.id, value=failed)
    await c.audit("concord", "task.unassignable", task.id, agency=task.agency)


async def tell(c: Concord, effect: Tell) -> None:
    task = effect.task
    notices = c.compose.notices(effect.kind, task, effect.to, effect.note, utcnow())
    for outgoing in notices:
        await c.post(outgoing)
    if len(notices) < len(effect.to):  # gone from the directory: the audit still names them
        log.warning("task %s: %s notice for someone not in the directory", task.id, effect.kind)
    await c.audit(
        "concord", f"task.notice.{effect.kind}", task.id, to=",".join(effect.to), note=effect.note
    )


async def carry_out(c: Concord, effect: Effect, changes: int) -> None:
    if isinstance(effect, Publish):
        await c.topics.task_state.send(key=effect.task.id, value=effect.task)
    elif isinstance(effect, Dispatch):
        await deliver_task(c, effect)
    elif isinstance(effect, Emit):
        await c.topics.task_events.send(key=effect.event.task_id, value=effect.event)
    elif isinstance(effect, Tell):
        await tell(c, effect)
    elif isinstance(effect, UpdateSlack):
        now = utcnow()
        update = c.compose.slack_update(
            effect.task, effect.ref, effect.actor, effect.shown_to, changes, now
        )
        if update is not None:  # the state is recorded either way; the message may lag
            await c.post(update)
    elif isinstance(effect, Refused):
        log.info("task event refused: %s", effect.reason)


async def withdraw_moot(c: Concord, before: TrackRecord | None, after: TrackRecord) -> None:
    """The task went to someone else, or ended: its message to the previous holder is
    moot if it has not reached them yet."""
    old = before.task if before is not None else None
    new = after.task
    if old is None or new is None or not old.assignee:
        return
    ended = new.state in (TaskState.done, TaskState.cancelled)
    if new.assignee != old.assignee or (ended and old.state != new.state):
        why = f"task {new.state.value}" if ended else f"task given to {new.assignee}"
        await c.withdraw(c.compose.task_key(new.id, old.assignee), why)


async def track_one(c: Concord, records: Any, event: TaskEvent) -> None:
    stored = records.get(event.task_id)
    record = TrackRecord.model_validate(stored) if stored else None
    after, effects = handle(record, event, c.directory, utcnow())
    changes = len(after.history) if after is not None else 0
    for effect in effects:
        await carry_out(c, effect, changes)
    if after is None or after == record:
        refused = next((e.reason for e in effects if isinstance(e, Refused)), None)
        if refused is not None:
            await c.audit(
                event.actor,
                "task.refused",
                event.task_id,
                channel=event.channel,
                event=event.action,
                reason=refused,
            )
        return
    records[event.task_id] = dump(after)
    await withdraw_moot(c, record, after)
    done = len(record.history) if record else 0
    for step in after.history[done:]:
        await c.audit(
            step.actor,
            f"task.{step.action}",
            event.task_id,
            channel=step.channel,
            before=step.before,
            after=step.after,
            assignee=step.assignee or "",
            reason=step.reason or "",
        )


async def send_ticks(c: Concord, records: Any) -> None:
    """A `tick` for every escalation or reminder deadline that has passed."""
    now = utcnow()
    for key, stored in list(records.items()):
        for field in ("escalate_at", "remind_at"):
            value = stored.get(field)
            if value and datetime.fromisoformat(value) <= now:
                tick = TaskEvent(task_id=key, action="tick", deadline=datetime.fromisoformat(value))
                await c.topics.task_events.send(key=key, value=tick)


def register(c: Concord) -> None:
    records = c.app.Table("tasks", default=None, partitions=c.settings.partitions)
    c.tables["tasks"] = records

    async def handle_one(event: TaskEvent) -> None:
        await track_one(c, records, event)

    @c.app.agent(c.topics.task_events.channel, name="concord.track")
    async def track_agent(stream: Any) -> None:
        await consume(c, "track", c.topics.task_events, stream, handle_one)

    @c.app.timer(c.settings.tick_seconds, on_leader=False)
    @survives("task deadlines")
    async def task_deadlines() -> None:
        await send_ticks(c, records)
