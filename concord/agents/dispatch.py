"""Dispatch: `concord.tasks` -> render per recipient -> notifiers -> `concord.deliveries`.

Exactly one delivery per task, across crashes: the `tasks-dispatched` table holds a
write-ahead `sending` marker (flushed to Kafka before anything leaves) and then the
outcome (flushed before the next task). A restarted worker that finds `sending` knows
the send was in doubt: it asks the carriers that can tell (Slack's history, by the
message's metadata key) and only sends again when none has it; an email sent again
carries the same Message-ID and `X-Concord-Resend: in-doubt`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from concord.core.planning import ready
from concord.notifiers.base import Message, Recipient
from concord.notifiers.pipeline import RetryPolicy, deliver
from concord.streams import topics as t
from concord.streams.models import Receipt, Task, TaskState, utcnow

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

SENDING = "sending"


async def durable(c: Concord) -> None:
    """Wait until every buffered write (table changelogs included) is acked by the broker.

    Faust's `Producer.flush()` returns after 0.1 s when its buffer still holds messages,
    so drain the buffer first, then wait for the client's in-flight batches.
    """
    producer = c.app.producer
    while producer.buffer.size:
        await producer.buffer.flush()
        await asyncio.sleep(0)  # let the buffer's sender hand the last one over
    await producer.flush()


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
    found = c.directory.liaison(task.assignee) if task.assignee else None
    if found is None:
        return None
    agency, liaison = found
    recipient = Recipient(
        id=liaison.id,
        name=liaison.name,
        language=liaison.language,
        email=str(liaison.email) if liaison.email else None,
        slack_channel=liaison.slack_channel,
        slack_user=liaison.slack_user,
    )
    area = c.directory.area(task.area)
    message = c.renderer.task_message(task, recipient, area.name if area else task.area)
    return message, list(task.channels or agency.channels)


def register(c: Concord) -> None:
    dispatched = c.app.Table("tasks-dispatched", default=None, partitions=c.settings.partitions)
    receipts_out = c.topics[t.DELIVERIES.name]
    state_out = c.topics[t.TASK_STATE.name]
    policy = RetryPolicy(attempts=c.settings.retry_attempts, base=c.settings.retry_base_seconds)

    async def on_receipt(receipt: Receipt) -> None:
        c.metrics.deliveries.labels(receipt.channel, "ok" if receipt.ok else "failed").inc()
        await receipts_out.send(key=receipt.task_id, value=receipt)

    async def dispatch_one(task: Task, in_doubt: bool) -> None:
        prepared = _message_for(c, task)
        if prepared is None:
            # The directory no longer knows the assignee: show it failed, never drop it.
            failed = task.model_copy(update={"state": TaskState.failed, "updated_at": utcnow()})
            dispatched[task.id] = {"state": str(failed.state), "channels": []}
            await state_out.send(key=failed.id, value=failed)
            await c.audit("concord", "task.unassignable", task.id, agency=task.agency)
            return
        message, channels = prepared
        receipts = await _found_after_crash(c, message, task) if in_doubt else []
        for receipt in receipts:
            await on_receipt(receipt)
        if not receipts:
            dispatched[task.id] = {"state": SENDING}
            await durable(c)  # the marker is in Kafka before anything leaves
            if in_doubt:
                message = dataclasses.replace(message, resend=True)
            receipts = await deliver(
                message, task.id, c.registry, channels, policy, asyncio.sleep, on_receipt
            )
        ok = [r.channel for r in receipts if r.ok]
        updated = task.model_copy(
            update={
                "state": TaskState.assigned if ok else TaskState.failed,
                "updated_at": utcnow(),
                "deliveries": ok,
            }
        )
        dispatched[task.id] = {"state": str(updated.state), "channels": ok}
        await state_out.send(key=updated.id, value=updated)
        await durable(c)  # the outcome is durable before the next task
        c.observer.delivered(updated, receipts)
        await c.audit(
            "concord",
            "task.assigned" if ok else "task.delivery_failed",
            task.id,
            channel=ok[0] if ok else None,
            assignee=task.assignee or "",
            attempts=str(len(receipts)),
        )

    @c.app.agent(c.topics[t.TASKS.name], name="concord.dispatch")
    async def dispatch_agent(stream: Any) -> None:
        task: Task
        async for task in stream:
            entry = dispatched.get(task.id)
            if not ready(task) or (entry is not None and entry.get("state") != SENDING):
                log.debug("task %s: not dispatched (%s)", task.id, entry or "waiting")
                continue  # held for dependencies, or already delivered (or failed)
            log.info("task %s: dispatching%s", task.id, " (in doubt)" if entry else "")
            await dispatch_one(task, in_doubt=entry is not None)
