"""Deliver: `concord.outgoing` -> lanes -> carriers -> receipts, outcomes, delivery state.

The one stage that talks to carriers (see `concord.streams.delivery`). For each message
key it keeps a `DeliveryRecord` in the `deliveries` table — the durable schedule: a
record that is not final after a restart is taken up again, in doubt (Slack is asked
whether it arrived before anything is sent again; an email goes again with the same
Message-ID and `X-Concord-Resend: in-doubt`). Agents that post a message go on at once:
the agent here only records it and hands it to a lane (`concord.delivery.lanes`); the
attempt, the retry schedule (`concord.delivery.schedule`), the fallback and the outcome
happen in the lane's task. Writes from there go to the table by key (it is partitioned
like `concord.outgoing`, by the message key), and the record is durable in Kafka before
any attempt leaves, so a message is delivered once per key, also across crashes.
"""

from __future__ import annotations

import functools
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust

from concord.agents.ledger import Ledger
from concord.agents.stage import consume, every, owner
from concord.delivery.compose import Compose
from concord.delivery.lanes import Job, Lanes, lane_of, paces
from concord.delivery.schedule import Failure, Next, Policy, after_failure, delivered
from concord.notifiers.base import Notifier, SendError, Sent
from concord.notifiers.registry import Registry
from concord.runtime import Flow
from concord.settings import Settings
from concord.streams.delivery import DeliveryRecord, DeliveryRequest, Outgoing, Receipt
from concord.streams.tables import Table
from concord.streams.tasks import TaskEvent
from concord.types import utcnow

log = logging.getLogger(__name__)

TAKE_UP_SECONDS = 5.0  # how often `look_again` looks


@dataclass
class Delivery:
    """The delivery stage of one worker: its records, lanes and retry schedule."""

    flow: Flow
    registry: Registry
    compose: Compose
    ledger: Ledger
    lanes: Lanes
    policy: Policy
    #: whether this worker owns a key's partition (a lane's job may outlive it)
    ours: Callable[[str], bool]
    due: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, key)

    def schedule(self, record: DeliveryRecord) -> None:
        """Attempt the record when it is due (now, or at its retry time)."""
        delay = 0.0
        if record.next_at is not None:
            delay = max(0.0, (record.next_at - utcnow()).total_seconds())
        if delay <= 0:
            self.submit(record)
        else:
            heapq.heappush(self.due, (time.monotonic() + delay, record.key))

    def submit(self, record: DeliveryRecord) -> None:
        outgoing = record.outgoing
        channel = record.current
        if outgoing is None or channel is None:
            return
        key = record.key

        async def run() -> float | None:
            return await self.attempt(key)

        self.lanes.submit(Job(key, lane_of(outgoing, channel), outgoing.order, run))

    # -- the agent: requests ----------------------------------------------------------

    async def request(self, req: DeliveryRequest) -> None:
        record = self.ledger.get(req.key)
        if req.action == "withdraw":
            if record is not None and not record.final:
                await self.finish(
                    record.model_copy(
                        update={
                            "state": "withdrawn",
                            "last_error": req.reason,
                            "updated_at": utcnow(),
                        }
                    )
                )
            return
        if req.outgoing is None:
            return
        if record is not None:
            return  # once per key: delivered, or on its way (a restart takes it up again)
        outgoing = req.outgoing
        channels = self.reachable(outgoing)
        now = utcnow()
        record = DeliveryRecord(
            key=req.key,
            kind=outgoing.kind,
            subject=outgoing.subject,
            recipient=outgoing.message.recipient.id,
            channels=channels,
            deadline=outgoing.deadline,
            created_at=outgoing.created_at,
            updated_at=now,
            next_at=now,
            outgoing=outgoing,
        )
        if not channels:
            failed = record.model_copy(
                update={
                    "state": "failed",
                    "last_error": "no configured channel can reach this recipient",
                    "next_at": None,
                }
            )
            await self.ledger.save(failed)
            await self.receipt(failed, "none", 0, ok=False, error=failed.last_error)
            await self.concluded(failed, [])
            return
        await self.ledger.save(record)
        self.submit(record)

    def reachable(self, outgoing: Outgoing) -> list[str]:
        """The message's channels that a configured carrier can reach, in order."""
        out = []
        for channel in dict.fromkeys(outgoing.channels):
            notifier = self.registry.get(channel)
            if notifier is not None and notifier.can_reach(outgoing.message.recipient):
                out.append(channel)
        return out

    # -- a lane's job: one attempt ----------------------------------------------------

    async def attempt(self, key: str) -> float | None:
        """Try the record's current channel once; record the outcome. Returns the seconds
        the lane must pause (a rate limit), or None."""
        record = self.ledger.get(key)
        if record is None or record.final or record.outgoing is None or record.current is None:
            return None
        if not self.ours(key):
            return None  # the partition moved to another worker: it takes the message up
        channel = record.current
        notifier = self.registry.get(channel)
        if notifier is None:
            await self.failed_attempt(record, Failure(f"{channel} is not configured", False))
            return None
        message = record.outgoing.message
        await self.flow.durable()  # the record is in Kafka before anything leaves
        started = time.perf_counter()
        try:
            sent = await self.in_doubt(record, notifier) if record.in_doubt else None
            if sent is None:
                if record.in_doubt:
                    message = message.model_copy(update={"resend": True})
                sent = await (
                    notifier.update(message) if record.kind == "update" else notifier.send(message)
                )
        except SendError as exc:
            log.debug(
                "delivery %s: %s failed after %.3f s", key, channel, time.perf_counter() - started
            )
            await self.failed_attempt(record, Failure(str(exc), exc.retryable, exc.retry_after))
            return exc.retry_after if exc.retry_after else None
        await self.succeeded(record, channel, sent)
        return None

    async def in_doubt(self, record: DeliveryRecord, notifier: Notifier) -> Sent | None:
        """A crash may have sent it: ask the carrier (Slack can tell; SMTP cannot)."""
        assert record.outgoing is not None
        found: Sent | None = await notifier.lookup(record.outgoing.message)
        if found is not None:
            await self.flow.audit(
                "concord",
                "delivery.confirmed_after_restart",
                record.subject,
                channel=notifier.channel,
                key=record.key,
            )
        return found

    async def succeeded(self, record: DeliveryRecord, channel: str, sent: Sent) -> None:
        now = utcnow()
        done = delivered(record, channel, sent.provider_id, now)
        await self.receipt(done, channel, done.attempts, ok=True, provider_id=sent.provider_id)
        self.flow.metrics.delivery_latency.labels(channel).observe(
            (now - record.created_at).total_seconds()
        )
        self.ledger.ok(channel, now)
        await self.finish(done)

    async def failed_attempt(self, record: DeliveryRecord, failure: Failure) -> None:
        channel = record.current or "none"
        now = utcnow()
        self.ledger.failed(channel, failure.error)
        await self.receipt(
            record,
            channel,
            record.attempts + 1,
            ok=False,
            error=failure.error,
            retryable=failure.retryable,
        )
        step = after_failure(record, failure, now, self.policy)
        await self.moved(record, step)

    async def moved(self, before: DeliveryRecord, step: Next) -> None:
        record = step.record
        assert before.outgoing is not None
        if step.outcome == "retry":
            await self.ledger.save(record)
            self.schedule(record)  # keeps its place in its order: the lane is not released
            return
        self.lanes.release(
            before.key, before.outgoing.order, lane_of(before.outgoing, before.current or "")
        )
        if step.outcome == "fallback":
            await self.ledger.save(record)
            log.warning(
                "delivery %s: falling back to %s (%s)", record.key, record.current, step.why
            )
            await self.tell(record, "fallback", step.why)
            self.submit(record)
            return
        await self.finish(record)

    async def finish(self, record: DeliveryRecord) -> None:
        """A final record: saved, released, reported to whoever needs the outcome."""
        await self.ledger.save(record)
        outgoing = record.outgoing
        if outgoing is not None and record.current is not None:
            self.lanes.release(record.key, outgoing.order, lane_of(outgoing, record.current))
        if record.state == "withdrawn":
            return
        await self.concluded(record, [record.via] if record.via else [])

    async def concluded(self, record: DeliveryRecord, channels: list[str]) -> None:
        outgoing = record.outgoing
        ok = record.state == "delivered"
        if outgoing is not None and outgoing.report_task:
            slack = record.provider_id if record.via == "slack" else None
            event = TaskEvent(
                task_id=outgoing.report_task,
                action="delivered",
                ok=ok,
                channels=channels,
                slack_ref=slack,
            )
            await self.flow.topics.task_events.send(key=outgoing.report_task, value=event)
            await self.flow.audit(
                "concord",
                "task.delivered" if ok else "task.delivery_failed",
                outgoing.report_task,
                channel=record.via,
                assignee=record.recipient,
                attempts=str(record.total_attempts),
            )
        elif not ok:
            await self.flow.audit(
                "concord",
                "delivery.failed",
                record.subject,
                key=record.key,
                recipient=record.recipient,
                reason=record.last_error or "",
            )
            await self.tell(record, "failed", record.last_error or "")
        if outgoing is not None and outgoing.kind == "task":
            self.flow.observer.delivered(record, outgoing)

    async def tell(self, record: DeliveryRecord, what: str, why: str) -> None:
        """Tell the coordinators that a message fell back or could not be delivered."""
        outgoing = record.outgoing
        if outgoing is None or not outgoing.tell_on_failure:
            return
        if what == "failed" and outgoing.report_task:
            return  # the track stage tells them (the task is `failed`, unassignable)
        for notice in self.compose.delivery_trouble(record, outgoing, what, why, utcnow()):
            await self.flow.post(notice)

    async def receipt(
        self,
        record: DeliveryRecord,
        channel: str,
        attempt: int,
        *,
        ok: bool,
        error: str | None = None,
        provider_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        receipt = Receipt(
            task_id=record.subject,
            channel=channel,
            recipient=record.recipient,
            attempt=attempt,
            ok=ok,
            retryable=retryable,
            error=error,
            provider_id=provider_id,
            exercise=record.outgoing.message.exercise if record.outgoing else False,
        )
        self.flow.metrics.deliveries.labels(channel, "ok" if ok else "failed").inc()
        await self.flow.topics.deliveries.send(key=receipt.task_id, value=receipt)

    # -- schedule, recovery, metrics ----------------------------------------------------

    def due_now(self) -> list[str]:
        now = time.monotonic()
        keys = []
        while self.due and self.due[0][0] <= now:
            keys.append(heapq.heappop(self.due)[1])
        return keys

    async def pump(self) -> None:
        for key in self.due_now():
            record = self.ledger.get(key)
            if record is not None and not record.final:
                self.submit(record)

    def recover(self, forget: bool = True) -> int:
        """Take up, in doubt, the records this worker now owns (see `Ledger.take_up`)."""
        taken = self.ledger.take_up(self.ours, forget)
        for record in taken:
            self.schedule(record)
        return len(taken)


async def recovered(stage: Delivery, *args: Any, **kwargs: Any) -> None:
    try:
        taken = stage.recover()
    except Exception:  # never silently: a record not taken up would wait forever
        log.exception("delivery: taking up pending messages failed")
        raise
    if taken:
        log.info("delivery: %d message(s) taken up again, in doubt", taken)


async def look_again(stage: Delivery) -> None:
    """Take up what the last rebalance's look missed (a record restored after it, or a
    partition not read as ours yet): once ready, never forgetting (`Ledger.take_up`)."""
    if not stage.flow.health.ready:
        return
    taken = stage.recover(forget=False)
    if taken:
        log.warning("delivery: %d message(s) missed at the rebalance taken up, in doubt", taken)


async def stopping(stage: Delivery, *args: Any, **kwargs: Any) -> None:
    # In-flight attempts are handed back: pending in the table, in doubt at restart.
    await stage.lanes.close()


async def observe(stage: Delivery) -> None:
    stage.ledger.observe(stage.flow.metrics, utcnow())


async def run(stage: Delivery, stream: Any) -> None:
    topic = stage.flow.topics.outgoing
    await consume(stage.flow, "deliver", topic, stream, stage.request)


def register(
    app: faust.App, flow: Flow, registry: Registry, compose: Compose, settings: Settings
) -> Delivery:
    """Create the stage's table, bind its agent, its schedule and its recovery."""
    table = Table(app, "deliveries", DeliveryRecord, settings.partitions, use_partitioner=True)
    policy = Policy(
        base=settings.retry_base_seconds,
        cap=settings.retry_cap_seconds,
        fallback_window=timedelta(hours=settings.delivery_horizon_hours),
    )
    topic = flow.topics.outgoing.name
    ledger = Ledger(flow, table)
    stage = Delivery(
        flow,
        registry,
        compose,
        ledger,
        Lanes(paces(settings)),
        policy,
        owner(app, topic, settings.partitions),
    )
    flow.health.degraded = ledger.degraded
    app.agent(flow.topics.outgoing.channel, name="concord.deliver")(functools.partial(run, stage))
    every(app, 0.05, "delivery schedule", stage.pump)
    every(app, 1.0, "delivery metrics", functools.partial(observe, stage))
    app.on_rebalance_complete.connect(functools.partial(recovered, stage))
    every(app, TAKE_UP_SECONDS, "delivery take-up", functools.partial(look_again, stage))
    app.on_before_shutdown.connect(functools.partial(stopping, stage))
    return stage
