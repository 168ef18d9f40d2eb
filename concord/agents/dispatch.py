"""Dispatch: `concord.tasks` -> render per recipient -> notifiers -> `concord.deliveries`.

Exactly one delivery per task and assignee (an escalated or reassigned task reaches its
new assignee once), across crashes: the `tasks-dispatched` table holds a
write-ahead `sending` marker (flushed to Kafka before anything leaves) and then the
outcome (flushed before the next task). A restarted worker that finds `sending` knows
the send was in doubt: it asks the carriers that can tell (Slack's history, by the
message's metadata key) and only sends again when none has it; an email sent again
carries the same Message-ID and `X-Concord-Resend: in-doubt`. The outcome goes back to
the track stage as a `delivered` event: dispatch never writes a task's state.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume
from concord.core.tasks import FINAL
from concord.notifiers.base import Message
from concord.notifiers.recipients import recipient_for
from concord.streams.models import Receipt, Task
from concord.streams.tracking import TaskEvent
from concord.web.links import TaskLink

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

SENDING = "sending"


async def durable(c: Concord) -> None:
    """Wait until every buffered write (table changelogs included) is acked by the broker
    (the app's producer drains its buffer first: `concord.app.durable_flush`)."""
    await c.app.producer.flush()


async def _found_after_crash(c: Concord, message: Message, task: Task) -> list[Receipt]:
    """A send a crash left in doubt: ask each carrier that can tell whether it arrived."""
    for notifier in c.registry:
        if not notifier.can_reach(message.recipient):
            continue
        sent = await notifier.lookup(message)
        if sent is not None:
            await c.audit(
                "concord",
                "task.delivery_confirmed_after_restart",
                task.id,
                channel=notifier.channel,
            )
            return [
                Receipt(
                    task_id=task.id,
                    channel=notifier.channel,
                    recipient=message.recipient.id,
                    attempt=0,
                    ok=True,
                    provider_id=sent.provider_id,
                    exercise=task.exercise,
                )
            ]
    return []


def _message_for(c: Concord, task: Task) -> tuple[Message, list[str]] | None:
    """The rendered message for the task's assignee and the channels to try, in order."""
    found = recipient_for(c.directory, task.assignee) if task.assignee else None
    if found is None:
        return None
    recipient, channels = found
    where = c.directory.place(task.areas or [task.area])
    links = {
        action: c.links_base + c.signer.task_link(TaskLink(task.id, recipient.id, action))
        for action in ("ack", "decline", "done")
    }
    message = c.renderer.task_message(task, recipient, where, links)
    return message, list(task.channels or channels)


def register(c: Concord) -> None:
    dispatched = c.app.Table("tasks-dispatched", default=None, partitions=c.settings.partitions)
    events_out = c.topics.task_events

    async def report(task: Task, receipts: list[Receipt]) -> None:
        """Tell the track stage what happened (it owns the task's state)."""
        ok = [r for r in receipts if r.ok]
        slack = next((r.provider_id for r in ok if r.channel == "slack"), None)
        event = TaskEvent(
            task_id=task.id,
            action="delivered",
            ok=bool(ok),
            channels=[r.channel for r in ok],
            slack_ref=slack,
        )
        await events_out.send(key=task.id, value=event)

    async def dispatch_one(task: Task, key: str, in_doubt: bool) -> None:
        prepared = _message_for(c, task)
        if prepared is None:
            # The directory no longer knows the assignee: show it failed, never drop it.
            dispatched[key] = {"state": "failed", "channels": []}
            await report(task, [])
            await c.audit("concord", "task.unassignable", task.id, agency=task.agency)
            return
        message, channels = prepared
        receipts = await _found_after_crash(c, message, task) if in_doubt else []
        for receipt in receipts:
            await c.record(receipt)
        if not receipts:
            dispatched[key] = {"state": SENDING}
            await durable(c)  # the marker is in Kafka before anything leaves
            if in_doubt:
                message = dataclasses.replace(message, resend=True)
            receipts = await c.send(message, task.id, channels)
        ok = [r.channel for r in receipts if r.ok]
        dispatched[key] = {"state": "assigned" if ok else "failed", "channels": ok}
        await report(task, receipts)
        await durable(c)  # the outcome is durable before the next task
        shown = task.model_copy(update={"deliveries": ok})
        c.observer.delivered(shown, receipts)
        await c.audit(
            "concord",
            "task.delivered" if ok else "task.delivery_failed",
            task.id,
            channel=ok[0] if ok else None,
            assignee=task.assignee or "",
            attempts=str(len(receipts)),
        )

    async def dispatch_task(task: Task) -> None:
        # One delivery per task and assignee: an escalated or reassigned task goes
        # to its new assignee once, a replay after a crash to nobody twice.
        key = f"{task.id}|{task.assignee}"
        entry = dispatched.get(key)
        if task.state in FINAL or (entry is not None and entry.get("state") != SENDING):
            log.debug("task %s: not dispatched (%s)", task.id, entry or task.state)
            return
        log.info("task %s: dispatching%s", task.id, " (in doubt)" if entry else "")
        await dispatch_one(task, key, in_doubt=entry is not None)

    @c.app.agent(c.topics.tasks.channel, name="concord.dispatch")
    async def dispatch_agent(stream: Any) -> None:
        await consume(c, "dispatch", c.topics.tasks, stream, dispatch_task)
