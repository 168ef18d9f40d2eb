"""Track: `concord.task-events` -> the `tasks` table -> task snapshots, dispatch, notices.

Every change of a task (created, released, delivered, acknowledged, declined, done,
escalated, reassigned, cancelled) arrives here keyed by task id, so one worker applies a
task's changes in order and is the only writer of its snapshots on `concord.task-state`.
The rules are `concord.core.track.handle`. Escalation and reminder deadlines are in the
table; a Faust timer scans it and sends `tick` events, so they survive a restart.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume, survives
from concord.core.track import Dispatch, Effect, Emit, Publish, Refused, Tell, UpdateSlack, handle
from concord.notifiers.base import SendError
from concord.notifiers.recipients import recipient_for
from concord.notifiers.slack import SlackNotifier
from concord.streams.codec import dump
from concord.streams.models import utcnow
from concord.streams.tracking import TaskEvent, TrackRecord

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)


def register(c: Concord) -> None:
    records = c.app.Table("tasks", default=None, partitions=c.settings.partitions)
    c.tables["tasks"] = records
    events = c.topics.task_events
    state_out = c.topics.task_state
    tasks_out = c.topics.tasks

    async def tell(effect: Tell) -> None:
        task = effect.task
        where = c.directory.place(task.areas or [task.area])
        for person in effect.to:
            found = recipient_for(c.directory, person)
            if found is None:  # gone from the directory since: the audit entry still names them
                log.warning(
                    "task %s: %s notice for %s, who is not in the directory",
                    task.id,
                    effect.kind,
                    person,
                )
                continue
            recipient, channels = found
            message = c.renderer.notice_message(
                effect.kind, task, recipient, where, effect.note
            )
            await c.send(message, task.id, channels)
        await c.audit(
            "concord",
            f"task.notice.{effect.kind}",
            task.id,
            to=",".join(effect.to),
            note=effect.note,
        )

    async def update_slack(effect: UpdateSlack) -> None:
        notifier = c.registry.get("slack")
        if not isinstance(notifier, SlackNotifier):
            return
        shown = recipient_for(c.directory, effect.shown_to)
        language = shown[0].language if shown else "en"
        text, blocks = c.renderer.task_status(effect.task, effect.actor, language)
        try:
            await notifier.update(effect.ref, text, blocks)
        except SendError as exc:  # the state is recorded; the message just stays stale
            log.warning("task %s: Slack message not updated: %s", effect.task.id, exc)

    async def carry_out(effect: Effect) -> None:
        if isinstance(effect, Publish):
            await state_out.send(key=effect.task.id, value=effect.task)
        elif isinstance(effect, Dispatch):
            await tasks_out.send(key=effect.task.id, value=effect.task)
        elif isinstance(effect, Emit):
            await events.send(key=effect.event.task_id, value=effect.event)
        elif isinstance(effect, Tell):
            await tell(effect)
        elif isinstance(effect, UpdateSlack):
            await update_slack(effect)
        elif isinstance(effect, Refused):
            log.info("task event refused: %s", effect.reason)

    async def track_one(event: TaskEvent) -> None:
        stored = records.get(event.task_id)
        record = TrackRecord.model_validate(stored) if stored else None
        after, effects = handle(record, event, c.directory, utcnow())
        for effect in effects:
            await carry_out(effect)
        if after is None or after == record:
            if any(isinstance(e, Refused) for e in effects):
                reason = next(e.reason for e in effects if isinstance(e, Refused))
                await c.audit(
                    event.actor,
                    "task.refused",
                    event.task_id,
                    channel=event.channel,
                    event=event.action,
                    reason=reason,
                )
            return
        records[event.task_id] = dump(after)
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

    @c.app.agent(events.channel, name="concord.track")
    async def track_agent(stream: Any) -> None:
        await consume(c, "track", events, stream, track_one)

    @c.app.timer(c.settings.tick_seconds, on_leader=False)
    @survives("task deadlines")
    async def task_deadlines() -> None:
        now = utcnow()
        for key, stored in list(records.items()):
            for field in ("escalate_at", "remind_at"):
                value = stored.get(field)
                if value and datetime.fromisoformat(value) <= now:
                    tick = TaskEvent(
                        task_id=key, action="tick", deadline=datetime.fromisoformat(value)
                    )
                    await events.send(key=key, value=tick)
