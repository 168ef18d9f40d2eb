"""Dispatch: `concord.tasks` -> render per recipient -> notifiers -> `concord.deliveries`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from concord.core.planning import ready
from concord.notifiers.base import Recipient
from concord.notifiers.pipeline import RetryPolicy, deliver
from concord.streams import topics as t
from concord.streams.models import Receipt, Task, TaskState, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    dispatched = c.app.Table("tasks-dispatched", default=None, partitions=c.settings.partitions)
    receipts_out = c.topics[t.DELIVERIES.name]
    state_out = c.topics[t.TASK_STATE.name]
    policy = RetryPolicy(attempts=c.settings.retry_attempts, base=c.settings.retry_base_seconds)

    async def on_receipt(receipt: Receipt) -> None:
        c.metrics.deliveries.labels(receipt.channel, "ok" if receipt.ok else "failed").inc()
        await receipts_out.send(key=receipt.task_id, value=receipt)

    @c.app.agent(c.topics[t.TASKS.name], name="concord.dispatch")
    async def dispatch_agent(stream: Any) -> None:
        task: Task
        async for task in stream:
            # Never the same task twice: the table survives restarts (changelog).
            if dispatched.get(task.id) is not None or not ready(task):
                continue
            found = c.directory.liaison(task.assignee) if task.assignee else None
            if found is None:
                await c.audit("concord", "task.unassignable", task.id, agency=task.agency)
                continue
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
            receipts = await deliver(
                message,
                task.id,
                c.registry,
                task.channels or agency.channels,
                policy,
                asyncio.sleep,
                on_receipt,
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
            c.observer.delivered(updated, receipts)
            await c.audit(
                "concord",
                "task.assigned" if ok else "task.delivery_failed",
                task.id,
                channel=ok[0] if ok else None,
                assignee=liaison.id,
                attempts=str(len(receipts)),
            )
