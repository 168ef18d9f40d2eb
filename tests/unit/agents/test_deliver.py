"""The deliver agent (concord.agents.deliver) carries out the rule's effects: real lanes,
an in-memory table, notifiers that record what they are asked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from concord.agents.deliver import Delivery, stopping, take_up_missed
from concord.common.types import utcnow
from concord.delivery.compose import Compose
from concord.delivery.lanes import Lanes
from concord.delivery.ledger import Ledger
from concord.delivery.schedule import Policy
from concord.notifiers.base import Message, Recipient, SendError, Sent
from concord.notifiers.registry import Registry
from concord.streams import held
from concord.streams.delivery import DeliveryRecord, DeliveryRequest, Outgoing
from concord.streams.patches import Writes
from concord.streams.tables import Shape, Table
from concord.worker.metrics import Metrics
from concord.worker.runtime import Flow, Flusher, Health
from tests.unit.agents.fakes import App, Topic

KEY = "task-1.police-duty"


@dataclass
class Topics:
    task_events: Topic = field(default_factory=Topic)
    delivery_state: Topic = field(default_factory=Topic)


@dataclass
class Observer:
    delivered_: list[str] = field(default_factory=list)

    def delivered(self, record: DeliveryRecord, outgoing: Outgoing) -> None:
        self.delivered_.append(record.key)


class Counted(dict[str, Any]):
    """A table whose every write is counted, as the producer counts them (`Writes.put`)."""

    def __init__(self, writes: Writes) -> None:
        super().__init__()
        self.writes = writes

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.writes.put += 1


@dataclass
class FakeFlow:
    topics: Topics = field(default_factory=Topics)
    metrics: Metrics = field(default_factory=Metrics)
    observer: Observer = field(default_factory=Observer)
    audits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    writes: Writes = field(default_factory=Writes)
    flushes: int = 0
    health: Health = field(default_factory=Health)
    flusher: Flusher = field(init=False)

    def __post_init__(self) -> None:
        self.flusher = Flusher(self.flush, self.writes)

    async def flush(self) -> None:
        """The producer's flush: what was written before it is durable after it."""
        self.flushes += 1
        self.writes.durable = self.writes.put

    async def audit(self, actor: str, action: str, subject: str, **details: Any) -> None:
        self.audits.append((action, details))

    posted: list[Any] = field(default_factory=list)

    async def post(self, notice: Any) -> None:
        self.posted.append(notice)

    async def durable(self, mark: int | None = None) -> None:
        await self.flusher.covered(mark)


@dataclass
class Told:
    """What `Compose.delivery_trouble` is asked: one notice per call, as (what, why)."""

    def delivery_trouble(
        self, record: DeliveryRecord, outgoing: Outgoing, what: str, why: str, now: Any
    ) -> list[Any]:
        return [(what, why)]


@dataclass
class Carrier:
    """A notifier: answers each send from `answers` (a Sent, or a SendError to raise)."""

    channel: str
    answers: list[Sent | SendError] = field(default_factory=list)
    knows: Sent | None = None  # what `lookup` finds (Slack can tell; SMTP cannot)
    sent: list[Message] = field(default_factory=list)
    asked: int = 0

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, message: Message) -> Sent:
        self.sent.append(message)
        answer = self.answers.pop(0) if self.answers else Sent(f"{self.channel}-id", "addr")
        if isinstance(answer, SendError):
            raise answer
        return answer

    async def update(self, message: Message) -> Sent:
        return await self.send(message)

    async def lookup(self, message: Message) -> Sent | None:
        self.asked += 1
        return self.knows


def outgoing() -> Outgoing:
    recipient = Recipient(id="police-duty", name="Duty", email="d@x", slack_channel="C-P")
    now = utcnow()
    return Outgoing(
        kind="task",
        subject="task-1",
        order="sit-1",
        message=Message(key=KEY, recipient=recipient, subject="Task", text="Do it"),
        channels=["slack", "email"],
        deadline=now + timedelta(minutes=5),
        created_at=now,
        report_task="task-1",
    )


def stage(*carriers: Carrier, ours: bool = True) -> tuple[Delivery, FakeFlow]:
    flow = FakeFlow()
    table = Table(App(), "deliveries", DeliveryRecord, Shape(4))
    table.faust = Counted(flow.writes)
    delivery = Delivery(
        cast(Flow, flow),
        Registry(list(carriers)),
        cast(Compose, Told()),
        Ledger(cast(Flow, flow), table),
        Lanes({}),
        Policy(base=0.01, cap=0.01, jitter=0.0),
        lambda key: ours,
    )
    return delivery, flow


async def until(check: Callable[[], bool], pump: Callable[[], Awaitable[None]]) -> None:
    async with asyncio.timeout(5):
        while not check():
            await pump()
            await asyncio.sleep(0.005)


def state(delivery: Delivery) -> str | None:
    record = delivery.ledger.get(KEY)
    return record.state if record else None


def test_a_request_is_sent_once_after_its_record_is_durable_and_the_track_hears() -> None:
    slack = Carrier("slack")
    delivery, flow = stage(slack)

    async def go() -> None:
        request = DeliveryRequest(key=KEY, outgoing=outgoing())
        await delivery.request(request)
        await delivery.request(request)  # the same key again: once per key
        await until(lambda: state(delivery) == "delivered", delivery.pump)

    asyncio.run(go())
    assert len(slack.sent) == 1
    assert flow.flushes == 1  # the record was not durable yet: the attempt waited for it
    record = delivery.ledger.get(KEY)
    assert record is not None
    assert record.outgoing is None
    [(_, event)] = flow.topics.task_events.sent
    assert event.ok
    assert event.channels == ["slack"]
    assert event.slack_ref == "slack-id"
    assert [a for a, _ in flow.audits] == ["task.delivered"]
    assert flow.observer.delivered_ == [KEY]
    assert delivery.ledger.pending == {}


def test_an_attempt_whose_record_a_flush_made_durable_already_waits_for_no_other() -> None:
    slack = Carrier("slack")
    delivery, flow = stage(slack)

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        assert flow.writes.put == 1  # the record, "on its way"
        assert slack.sent == []  # its attempt waits in its lane
        flow.writes.durable = 1  # meanwhile a flush (before a commit) made it durable
        await until(lambda: state(delivery) == "delivered", delivery.pump)
        # Written again since (delivered), and not flushed: the next attempt of the
        # same record would wait for a flush.
        assert flow.writes.put == 2

    asyncio.run(go())
    assert len(slack.sent) == 1
    assert flow.flushes == 0
    assert delivery.written == {}  # a final record is not waited for


def test_a_retryable_failure_waits_then_tries_again_and_a_permanent_one_falls_back() -> None:
    slack = Carrier(
        "slack", [SendError("Slack 500", retryable=True), SendError("gone", retryable=False)]
    )
    email = Carrier("email")
    delivery, flow = stage(slack, email)

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        await until(lambda: state(delivery) == "delivered", delivery.pump)

    asyncio.run(go())
    assert (len(slack.sent), len(email.sent)) == (2, 1)
    record = delivery.ledger.get(KEY)
    assert record is not None
    receipts = [(r.channel, r.attempt, r.ok) for r in record.receipts]
    assert receipts == [("slack", 1, False), ("slack", 2, False), ("email", 1, True)]
    # One state record per attempt's outcome, carrying the receipts so far.
    published = [len(r.receipts) for _, r in flow.topics.delivery_state.sent]
    assert published == [1, 2, 3]
    assert record.given_up == ["slack"]
    assert record.delivered_by == "email"
    assert flow.posted == [("fallback", "slack: gone")]  # the coordinators hear of it


def test_taken_up_in_doubt_slack_is_asked_first_and_not_sent_again() -> None:
    slack = Carrier("slack", knows=Sent("C-P/1.0", "C-P"))
    delivery, flow = stage(slack)

    async def go() -> None:
        delivery.ours = lambda key: False  # the request lands, then the worker dies
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        delivery.ours = lambda key: True
        delivery.ledger.pending.clear()  # a new worker: nothing on its way
        assert await delivery.take_up() == 1
        await until(lambda: state(delivery) == "delivered", delivery.pump)

    asyncio.run(go())
    assert slack.asked == 1
    assert slack.sent == []
    assert "delivery.confirmed_after_restart" in [a for a, _ in flow.audits]


def test_taken_up_in_doubt_an_email_goes_again_marked_as_a_resend() -> None:
    email = Carrier("email")
    delivery, _ = stage(email)

    async def go() -> None:
        delivery.ours = lambda key: False
        out = outgoing().model_copy(update={"channels": ["email"]})
        await delivery.request(DeliveryRequest(key=KEY, outgoing=out))
        delivery.ours = lambda key: True
        delivery.ledger.pending.clear()
        await delivery.take_up()
        await until(lambda: state(delivery) == "delivered", delivery.pump)

    asyncio.run(go())
    assert email.asked == 1
    assert [m.resend for m in email.sent] == [True]
    assert email.sent[0].key == KEY  # the same key: the same Message-ID


def test_a_job_for_a_partition_that_moved_away_sends_nothing() -> None:
    slack = Carrier("slack")
    delivery, _ = stage(slack, ours=False)

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        await delivery.run(KEY)

    asyncio.run(go())
    assert slack.sent == []
    assert state(delivery) == "pending"


def test_a_withdrawal_ends_the_record_and_nothing_is_reported() -> None:
    slack = Carrier("slack", [SendError("Slack 500", retryable=True)])
    delivery, flow = stage(slack)

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        await until(lambda: state(delivery) == "retrying", delivery.pump)
        await delivery.request(DeliveryRequest(key=KEY, action="withdraw", reason="reassigned"))
        await delivery.pump()

    asyncio.run(go())
    assert state(delivery) == "withdrawn"
    assert flow.topics.task_events.sent == []
    assert len(slack.sent) == 1


def test_a_worker_stopping_after_the_carrier_answered_still_tells_the_track() -> None:
    """Stopping cancels the lanes. An answer already heard is applied to the end: the
    record says delivered *and* the track hears it, never the one without the other."""
    slack = Carrier("slack")
    delivery, flow = stage(slack)
    in_effects, go_on = asyncio.Event(), asyncio.Event()
    original = flow.topics.task_events.send

    async def held_report(key: str, value: Any) -> None:
        in_effects.set()  # the record is written; its effects follow
        await go_on.wait()
        await original(key, value)

    flow.topics.task_events.send = held_report  # type: ignore[method-assign]

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        await asyncio.wait_for(in_effects.wait(), 5)
        stop = asyncio.ensure_future(stopping(delivery))  # the worker stops now, mid-effects
        await asyncio.sleep(0)  # one turn: the lanes are cancelled
        assert not stop.done()  # it waits for the answer's effects
        go_on.set()
        await asyncio.wait_for(stop, 5)

    asyncio.run(go())
    assert state(delivery) == "delivered"
    [(_, event)] = flow.topics.task_events.sent  # the track was told all the same
    assert event.ok
    [(_, published)] = flow.topics.delivery_state.sent
    assert [(r.channel, r.ok) for r in published.receipts] == [("slack", True)]


def test_the_task_hears_how_its_message_ended_before_the_final_record_is_written() -> None:
    """Written first, the final record could reach Kafka alone: a crash then left a
    delivered message whose task never heard (its escalation clock never started)."""
    slack = Carrier("slack")
    delivery, flow = stage(slack)
    acked: asyncio.Future[None] | None = None
    sent = asyncio.Event()
    original = flow.topics.task_events.send

    async def report(key: str, value: Any) -> asyncio.Future[None]:
        nonlocal acked
        await original(key, value)
        acked = asyncio.get_running_loop().create_future()
        held.sent(acked)  # as `RawTopic.send` does: the broker has not acked it yet
        sent.set()
        return acked

    flow.topics.task_events.send = report  # type: ignore[method-assign,assignment]

    async def go() -> None:
        await delivery.request(DeliveryRequest(key=KEY, outgoing=outgoing()))
        await asyncio.wait_for(sent.wait(), 5)
        for _ in range(20):  # however long the broker takes to ack the report
            await asyncio.sleep(0)
        assert state(delivery) == "pending"  # not final while the report may be lost
        assert acked is not None
        acked.set_result(None)
        await until(lambda: state(delivery) == "delivered", delivery.pump)

    asyncio.run(go())
    assert len(flow.topics.task_events.sent) == 1
    assert [a for a, _ in flow.audits] == ["task.delivered"]


def test_the_look_between_rebalances_takes_nothing_up_while_a_rebalance_recovers() -> None:
    """Mid-rebalance, a record whose last change is not restored yet looks on its way:
    taken up then, and again by the rebalance's own take-up, it was sent twice."""
    slack = Carrier("slack")
    delivery, flow = stage(slack)
    flow.health.ready = True
    rebalancing = True
    delivery.rebalancing = lambda: rebalancing
    record = DeliveryRecord(
        key=KEY,
        kind="task",
        subject="task-1",
        recipient="police-duty",
        channels=["slack"],
        deadline=utcnow() + timedelta(minutes=5),
        created_at=utcnow(),
        updated_at=utcnow(),
        outgoing=outgoing(),
    )
    delivery.ledger.table[KEY] = record  # restored so far: on its way

    async def look() -> list[str]:
        await take_up_missed(delivery)
        return list(delivery.ledger.pending)

    assert asyncio.run(look()) == []
    rebalancing = False
    assert asyncio.run(look()) == [KEY]
