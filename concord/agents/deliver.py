"""Deliver: `concord.outgoing` -> lanes -> carriers -> delivery state (with receipts), outcomes.

The one stage that talks to carriers (see `concord.streams.delivery`). Its rule is
`concord.delivery.step.handle`: this module feeds it the stage's events and carries out
the effects. For each message key the `deliveries` table keeps a `DeliveryRecord`, the
durable schedule: a record that is not final when this worker gains its partition (a
start, a rebalance, a crash elsewhere) is taken up, in doubt.

The agent only records a request and hands it to a lane (`concord.delivery.lanes`);
the attempt runs in the lane's task, and its outcome goes through `handle` like any
event. Writes from there go to the table by key (it is partitioned like
`concord.outgoing`, by the message key). The record is written before the effects and
is durable in Kafka before any attempt leaves, so a message is delivered once per key,
also across crashes.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust

from concord.agents.stage import consume, every, owner
from concord.common.types import utcnow
from concord.config.settings import Settings
from concord.delivery import step
from concord.delivery.compose import Compose
from concord.delivery.lanes import Job, Lanes, paces
from concord.delivery.ledger import Ledger
from concord.delivery.schedule import Failure, Policy
from concord.notifiers.base import Notifier, SendError, Sent
from concord.notifiers.registry import Registry
from concord.streams import held
from concord.streams.delivery import DeliveryRecord, DeliveryRequest, Outgoing
from concord.streams.patches import trace
from concord.streams.tables import Shape, Table
from concord.worker.runtime import Flow

log = logging.getLogger(__name__)

#: How often a worker takes up what the last rebalance's take-up could not see yet.
TAKE_UP_SECONDS = 5.0


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
    #: whether a rebalance is under way (its tables are being recovered): no take-up
    #: but the rebalance's own reads them meanwhile
    rebalancing: Callable[[], bool] = lambda: False
    due: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, key)
    #: attempts' outcomes being applied: a stopping worker waits for them (`finish`)
    finishing: set[asyncio.Task[None]] = field(default_factory=set)
    #: message key -> where the table writes ended just after its record's last write
    #: (`Flusher.mark`): an attempt waits only until that record is durable
    written: dict[str, int] = field(default_factory=dict)

    async def apply(self, key: str, event: step.Event) -> None:
        """One event: the rule, the record written, then its effects."""
        before = self.ledger.get(key)
        after, effects = step.handle(before, event, utcnow(), self.policy)
        if after is not None and after != before:
            if after.final:
                effects = await self.told_first(effects)
            await self.ledger.save(after)
            mark = self.flow.flusher.mark()
            if after.final or mark is None:
                self.written.pop(key, None)
            else:
                self.written[key] = mark
        for effect in effects:
            await self.carry_out(effect)

    async def told_first(self, effects: list[step.Effect]) -> list[step.Effect]:
        """Tell the task, the coordinators and the audit how a message ended, and wait
        until Kafka has it, before its final record is written; returns the rest.

        Written first, a final record could reach Kafka without them (Kafka orders one
        partition only), and a worker killed in between left a delivered message whose
        task never heard: its escalation clock, which starts at delivery, never started.
        Now such a crash leaves the record on its way: taken up in doubt, Slack is asked
        and an email goes again marked as a resend, and the task hears twice (the same
        news)."""
        telling = step.Report | step.Tell | step.Audit
        first = [e for e in effects if isinstance(e, telling)]
        if not first:
            return effects
        with held.holding() as told:
            for effect in first:
                await self.carry_out(effect)
        await told.durable()
        return [e for e in effects if not isinstance(e, telling)]

    async def carry_out(self, effect: step.Effect) -> None:
        """One effect of the rule."""
        if isinstance(effect, step.Attempt):
            self.lanes.submit(
                Job(effect.key, effect.lane, effect.order, functools.partial(self.run, effect.key))
            )
        elif isinstance(effect, step.Wait):
            delay = max(0.0, (effect.at - utcnow()).total_seconds())
            heapq.heappush(self.due, (time.monotonic() + delay, effect.key))
        elif isinstance(effect, step.Release):
            self.lanes.release(effect.key, effect.order, effect.lane)
        elif isinstance(effect, step.Note):
            receipt = effect.receipt
            ok = "ok" if receipt.ok else "failed"
            self.flow.metrics.deliveries.labels(receipt.channel, ok).inc()
            self.ledger.heard(receipt)
        elif isinstance(effect, step.Report):
            await self.flow.topics.task_events.send(key=effect.event.task_id, value=effect.event)
        elif isinstance(effect, step.Audit):
            await self.flow.audit("concord", effect.action, effect.subject, **effect.details)
        elif isinstance(effect, step.Tell):
            await self.tell(effect)
        elif isinstance(effect, step.Ended):
            self.ended(effect.record)

    # -- the agent: requests ----------------------------------------------------------

    async def request(self, req: DeliveryRequest) -> None:
        """A delivery request: apply it to the message's record (see `step.Requested`,
        `step.Withdrawn`)."""
        trace.info("delivery: %s %s", req.action, req.key)
        if req.action == "withdraw":
            await self.apply(req.key, step.Withdrawn(req.reason))
        elif req.outgoing is not None:
            await self.apply(req.key, step.Requested(req.outgoing, self.reachable(req.outgoing)))

    def reachable(self, outgoing: Outgoing) -> list[str]:
        """The message's channels that a configured carrier can reach, in order."""
        out = []
        for channel in dict.fromkeys(outgoing.channels):
            notifier = self.registry.get(channel)
            if notifier is not None and notifier.can_reach(outgoing.message.recipient):
                out.append(channel)
        return out

    # -- a lane's job: one attempt ----------------------------------------------------

    async def run(self, key: str) -> float | None:
        """Try the record's current channel once and apply the outcome. Returns the
        seconds the lane must pause (the carrier's Retry-After), or None."""
        record = self.ledger.get(key)
        attempt = step.attempt_of(record)
        if record is None or attempt is None:
            return None
        if not self.ours(key):
            self.written.pop(key, None)
            return None  # the partition moved to another worker: it takes the message up
        notifier = self.registry.get(attempt.channel)
        if notifier is None:
            failure = Failure(f"{attempt.channel} is not configured", retryable=False)
            await self.apply(key, step.Failed(attempt.channel, failure, random.random()))
            return None
        # The record is in Kafka before anything leaves. An attempt that waited in its
        # lane finds it durable already: it does not hold its lane through a flush of
        # every other stage's writes (most of an attempt's time under load).
        await self.flow.durable(self.written.get(key))
        try:
            outcome = await self.send(record, attempt, notifier)
        except SendError as exc:
            failure = Failure(str(exc), exc.retryable, exc.retry_after)
            await self.finish(key, step.Failed(attempt.channel, failure, random.random()))
            return exc.retry_after or None
        await self.finish(key, outcome)
        return None

    async def finish(self, key: str, outcome: step.Event) -> None:
        """Apply what the carrier answered to the end, even while the worker stops: the
        record and its effects (the receipt, the task told it was delivered) go together.
        A stopping worker cancels its lanes; cancelled between the record and its
        effects, a delivered message would stay delivered with its task never told."""
        task = asyncio.ensure_future(self.apply(key, outcome))
        self.finishing.add(task)
        task.add_done_callback(self.finishing.discard)
        await asyncio.shield(task)

    async def send(
        self, record: DeliveryRecord, attempt: step.Try, notifier: Notifier
    ) -> step.Sent:
        """The attempt's I/O: in doubt, ask the carrier first (Slack can tell; SMTP cannot),
        then send (again, flagged as a resend), or update a Slack message."""
        assert record.outgoing is not None
        message = record.outgoing.message
        if attempt.ask_first:
            found = await notifier.lookup(message)
            if found is not None:
                return step.Sent(attempt.channel, found.provider_id, confirmed=True)
            message = message.model_copy(update={"resend": True})
        sent: Sent = await (
            notifier.update(message) if record.kind == "update" else notifier.send(message)
        )
        return step.Sent(attempt.channel, sent.provider_id)

    # -- what the coordinators and the metrics hear -------------------------------------

    async def tell(self, effect: step.Tell) -> None:
        """Tell the coordinators about a message (fell back, or could not be delivered)."""
        record = effect.record
        if record.outgoing is None:
            return
        notices = self.compose.delivery_trouble(
            record, record.outgoing, effect.what, effect.why, utcnow()
        )
        for notice in notices:
            await self.flow.post(notice)

    def ended(self, record: DeliveryRecord) -> None:
        """A message reached its end: its latency on `/metrics`, a task's on the console."""
        outgoing = record.outgoing
        if record.state == "delivered" and record.delivered_at is not None and record.delivered_by:
            latency = (record.delivered_at - record.created_at).total_seconds()
            self.flow.metrics.delivery_latency.labels(record.delivered_by).observe(latency)
        if outgoing is not None and outgoing.kind == "task":
            self.flow.observer.delivered(record, outgoing)

    # -- the schedule and the take-up ---------------------------------------------------

    def due_now(self) -> list[str]:
        """The keys of the messages this worker holds whose next attempt is due."""
        now = time.monotonic()
        keys = []
        while self.due and self.due[0][0] <= now:
            keys.append(heapq.heappop(self.due)[1])
        return keys

    async def pump(self) -> None:
        """Start the attempts that are due, each in its lane."""
        for key in self.due_now():
            await self.apply(key, step.Due())

    async def take_up(self, forget: bool = True) -> int:
        """Take up, in doubt, the records this worker now owns and did not have on their
        way (see `Ledger.owned_now`)."""
        keys = self.ledger.owned_now(self.ours, forget)
        for key in keys:
            await self.apply(key, step.TakenUp())
        return len(keys)


async def take_up_at_rebalance(stage: Delivery, *args: Any, **kwargs: Any) -> None:
    """Faust's `on_partitions_assigned` hook: take up the messages of the partitions gained."""
    try:
        taken = await stage.take_up()
    except Exception:  # never silently: a record not taken up would wait forever
        log.exception("delivery: taking up pending messages failed")
        raise
    if taken:
        log.info("delivery: %d message(s) taken up again, in doubt", taken)


async def take_up_missed(stage: Delivery) -> None:
    """Take up what the last rebalance's take-up could not see (a record restored after
    it, or a partition not read as ours yet): once ready, never forgetting."""
    if not stage.flow.health.ready or stage.rebalancing():
        # Mid-rebalance the table is being recovered: a record read before its last
        # change is restored looks on its way, and was taken up twice (sent twice).
        return
    taken = await stage.take_up(forget=False)
    if taken:
        log.warning("delivery: %d message(s) missed at the rebalance taken up, in doubt", taken)


async def stopping(stage: Delivery, *args: Any, **kwargs: Any) -> None:
    """Faust's `on_shutdown` hook: stop the lanes before the worker goes."""
    # In-flight attempts are handed back: pending in the table, in doubt at restart. An
    # answer already heard is applied to the end first (`Delivery.finish`).
    await stage.lanes.close()
    if stage.finishing:
        await asyncio.gather(*stage.finishing, return_exceptions=True)


async def observe(stage: Delivery) -> None:
    """Publish how each carrier is doing on `/healthz` and `/metrics`."""
    stage.ledger.observe(stage.flow.metrics, utcnow())


async def run(stage: Delivery, stream: Any) -> None:
    """The deliver stage's loop over `concord.outgoing`."""
    topic = stage.flow.topics.outgoing
    await consume(stage.flow, "deliver", topic, stream, stage.request)


def register(
    app: faust.App, flow: Flow, registry: Registry, compose: Compose, settings: Settings
) -> Delivery:
    """Create the stage's table, bind its agent, its schedule and its take-up."""
    # Not held (`streams.held`): a record is durable before its attempt leaves.
    outgoing = flow.topics.outgoing.name
    table = Table(
        app, "deliveries", DeliveryRecord, Shape.of(settings), keyed_like=outgoing, holds=False
    )
    policy = Policy(
        base=settings.retry_base_seconds,
        cap=settings.retry_cap_seconds,
        fallback_window=timedelta(hours=settings.delivery_horizon_hours),
    )
    ledger = Ledger(flow, table)
    stage = Delivery(
        flow,
        registry,
        compose,
        ledger,
        Lanes(paces(settings)),
        policy,
        owner(app, outgoing, settings.partitions),
        rebalancing=lambda: bool(app.rebalancing),
    )
    flow.health.degraded = ledger.degraded
    app.agent(flow.topics.outgoing.channel, name="concord.deliver")(functools.partial(run, stage))
    every(app, 0.05, "delivery schedule", stage.pump)
    every(app, 1.0, "delivery metrics", functools.partial(observe, stage))
    app.on_rebalance_complete.connect(functools.partial(take_up_at_rebalance, stage))
    every(app, TAKE_UP_SECONDS, "delivery take-up", functools.partial(take_up_missed, stage))
    app.on_before_shutdown.connect(functools.partial(stopping, stage))
    return stage
