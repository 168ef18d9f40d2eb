"""The changes to Faust's and aiokafka's internals (concord.streams.patches): each test
fails without its patch."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers import aiokafka as driver
from faust.transport.producer import ProducerBuffer
from faust.types import TP as faust_TP
from mode.utils.futures import stampede

from concord.streams import patches
from tests.unit.factories import FaustApp, FaustTable
from tests.unit.streams.fakes import Stream

TP = faust_TP


class Client:
    """A Kafka client: a write is in it once the buffer handed it over; its flush
    waits for nothing more (the broker acks at once)."""

    def __init__(self) -> None:
        self.batches: list[str] = []
        self.flushed = 0

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        await asyncio.sleep(0.05)  # the client waits for the partition's metadata first
        self.batches.append(fut.name)

    async def flush(self) -> None:
        self.flushed += 1


def write(client: Client, name: str) -> Any:
    return SimpleNamespace(name=name, message=SimpleNamespace(channel=client))


async def test_a_flush_waits_for_the_write_the_buffer_is_handing_over() -> None:
    client = Client()
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    producer = SimpleNamespace(buffer=buffer, flush=client.flush)
    writes = patches.durable_flush(producer)
    await buffer.start()
    try:
        buffer.put(write(client, "on its way"))  # a table write
        for _ in range(100):  # until the buffer's task takes it off its queue
            if buffer.size == 0:
                break
            await asyncio.sleep(0)
        assert buffer.size == 0
        assert client.batches == []
        assert (writes.put, writes.durable) == (1, 0)
        await producer.flush()
        assert client.batches == ["on its way"]
        assert client.flushed == 1
        assert writes.durable == 1  # the writes made before the flush began
        # Writes made after a flush began are the next flush's.
        flushing = asyncio.ensure_future(producer.flush())
        await asyncio.sleep(0)  # the flush began
        buffer.put(write(client, "later"))
        await flushing
        assert (writes.put, writes.durable) == (2, 1)
        await producer.flush()
        assert client.batches == ["on its way", "later"]
        assert writes.durable == 2
    finally:
        await buffer.stop()


class Busy(Client):
    """A client under load: for each write it takes, the other stages put two new ones
    in the buffer (`most` in all), so the buffer fills faster than it empties."""

    def __init__(self, buffer: ProducerBuffer, most: int) -> None:
        super().__init__()
        self.buffer, self.most, self.busy, self.others = buffer, most, True, 0

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        await super().publish_message(fut, wait)
        for _ in range(2):
            if self.busy and self.others < self.most:
                self.others += 1
                self.buffer.put(write(self, f"other {self.others}"))


async def test_a_flush_does_not_wait_for_writes_made_after_it_began() -> None:
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    client = Busy(buffer, most=100)
    # Faust's own flush: its buffer's until the buffer is empty, then the client's.
    producer = SimpleNamespace(buffer=buffer, _producer=client, _transaction_producers={})
    producer.flush = functools.partial(driver.Producer.flush, cast(Any, producer))
    patches.durable_flush(producer)
    await buffer.start()
    try:
        buffer.put(write(client, "mine"))
        await producer.flush()
        # Back once its own write is in the client, while the others' still come
        # (Faust's flush came back only once the buffer was empty: after all 100).
        assert client.batches == ["mine"]
    finally:
        client.busy = False
        await producer.flush()  # what the others put: Faust's buffer stops only empty
        await buffer.stop()


class StampedApp:
    """An app whose producer lookup is Faust's: mode's `stampede`."""

    def __init__(self, started: bool) -> None:
        self.producer = SimpleNamespace(started=started)
        self.in_transaction = False
        self.starts = 0

    @stampede
    async def maybe_start_producer(self) -> Any:
        self.starts += 1
        return self.producer


async def test_a_started_producer_is_handed_over_without_a_turn_of_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from faust.topics import Topic

    monkeypatch.setattr(Topic, "_get_producer", Topic._get_producer)
    monkeypatch.delattr(Topic, "_concord_get_producer", raising=False)
    patches.prompt_producer()
    turns = 0

    async def count() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count())
    await asyncio.sleep(0)
    try:
        started = StampedApp(started=True)
        before = turns
        got: Any = await Topic._get_producer(cast(Any, SimpleNamespace(app=started)))
        assert got is started.producer
        assert turns == before  # every other task waited for none of it
        assert started.starts == 0
        # Not started yet: Faust starts it, as before.
        starting = StampedApp(started=False)
        got = await Topic._get_producer(cast(Any, SimpleNamespace(app=starting)))
        assert got is starting.producer
        assert starting.starts == 1
    finally:
        counter.cancel()


async def test_consumers_poll_briefly(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[AIOKafkaConsumer] = []

    def create(self: Any, transport: Any) -> AIOKafkaConsumer:
        made.append(AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9"))
        return made[-1]

    thread = driver.AIOKafkaConsumerThread
    monkeypatch.setattr(thread, "_concord_create", create, raising=False)
    monkeypatch.setattr(thread, "_create_worker_consumer", thread._create_worker_consumer)
    patches.fetch_wait(7)
    consumer = thread._create_worker_consumer(None, None)  # type: ignore[arg-type]
    assert consumer is made[0]
    assert consumer._fetch_max_wait_ms == 7
    other = patches.short_polls(AIOKafkaConsumer(), 3)
    assert other._fetch_max_wait_ms == 3
    for unused in (consumer, other):
        await unused.stop()


async def test_tracing_names_each_commit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from faust.transport.consumer import Consumer

    async def commit(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        return False  # the broker did not take it (faust's #316 marks it committed anyway)

    monkeypatch.setattr(Consumer, "_concord_commit_offsets", commit, raising=False)
    monkeypatch.setattr(Consumer, "_commit_offsets", Consumer._commit_offsets)
    monkeypatch.setattr(patches.trace, "level", patches.trace.level)
    patches.trace_partitions()
    with caplog.at_level(logging.INFO, logger="concord.trace"):
        assert await Consumer._commit_offsets(None, {TP("concord.signals", 2): 41}) is False  # type: ignore[arg-type]
    assert "commit NOT done: concord.signals:2@41" in caplog.text


class Thread:
    """Faust's consumer thread as `seek_to_committed` uses it: aiokafka's answer (the
    committed offset per partition, None for none), and a consumer that records seeks."""

    def __init__(self, committed: dict[Any, int | None]) -> None:
        self.committed = committed
        self.to_beginning: list[Any] = []
        self.app = SimpleNamespace(tables=SimpleNamespace(changelog_topics={"app-t-changelog"}))

    async def seek_to_committed(self) -> dict[Any, int | None]:
        return self.committed  # aiokafka moves nothing for None or 0

    async def call_thread(self, fn: Any, *args: Any) -> Any:
        return fn(*args)

    def _ensure_consumer(self) -> Any:
        return SimpleNamespace(seek_to_beginning=lambda *tps: self.to_beginning.extend(tps))


def test_a_stream_partition_with_no_committed_offset_is_read_from_its_first_record() -> None:
    class Patched(Thread):
        pass

    patches.seek_unread_from_start(Patched)
    fresh, zero, done, changelog = (
        TP("concord.situations", 3),
        TP("concord.signals.in", 2),
        TP("concord.signals.in", 0),
        TP("app-t-changelog", 3),
    )
    thread = Patched({fresh: None, zero: 0, done: 9, changelog: None})
    answer = asyncio.run(thread.seek_to_committed())
    assert answer == thread.committed  # Faust still learns the committed offsets
    # Back to the first record: the one taken over before any commit, and the one at 0;
    # not the one with a committed offset, nor a table's changelog.
    assert thread.to_beginning == [fresh, zero]
    plain = Thread({fresh: None})
    asyncio.run(plain.seek_to_committed())
    assert plain.to_beginning == []  # without the patch, nothing moves it back


def test_the_record_being_handled_is_faust_s_current_event() -> None:
    """What a table write reads to pick its changelog partition (`handling`)."""
    from faust.streams import current_event

    class Event:  # Faust keeps a weak reference to it
        pass

    first, second = cast(Any, Event()), cast(Any, Event())
    assert current_event() is None
    with patches.handling(first):
        assert current_event() is first
        with patches.handling(second):
            assert current_event() is second
        assert current_event() is first
    assert current_event() is None


def test_batches_sleep_while_no_record_comes() -> None:
    """Faust's `take_events` keeps a timer to look at its buffer every `within`;
    `batches` waits for the first record with none."""

    async def main() -> list[Any]:
        idle = Stream()
        taking = asyncio.ensure_future(anext(patches.batches(idle, 8, 0.005)))
        while not idle.drained.is_set() or not idle.processors:
            await asyncio.sleep(0)  # one turn: the drain and the batches start
        for _ in range(3):
            await asyncio.sleep(0)
        loop: Any = asyncio.get_running_loop()
        timers = [h for h in loop._scheduled if not h.cancelled()]
        taking.cancel()
        return timers

    assert asyncio.run(main()) == []


def test_a_batch_is_acked_once_handled_and_never_when_its_handling_raised() -> None:
    async def main() -> tuple[list[list[int]], list[int], list[int]]:
        busy = Stream([b"a", b"b", b"c"], [b"d"])
        seen: list[list[int]] = []
        acked_when_handled: list[int] = []
        async for batch in patches.batches(busy, 8, 0.005):
            acked_when_handled.extend(busy.acked)
            seen.append([e.message.offset for e in batch])
            if len(seen) == 2:
                break
        failing = Stream([b"x", b"y"])
        with contextlib.suppress(RuntimeError):
            async for _batch in patches.batches(failing, 8, 0):
                raise RuntimeError("a dead letter could not be written")
        return seen, acked_when_handled, failing.acked

    seen, acked_when_handled, acked_after_failure = asyncio.run(main())
    assert seen == [[0, 1, 2], [3]]
    assert acked_when_handled == [0, 1, 2]  # the first batch acked once it was handled
    assert acked_after_failure == []


def _faust_wait_empty() -> Any:
    from faust.app.base import App

    return getattr(App, "_concord_consumer_wait_empty", App._consumer_wait_empty)


class Stopping:
    """Faust's `App` as its stop and its rebalances use it: Faust's own
    `_consumer_wait_empty` (the one the patch wraps), whether the app stops."""

    _consumer_wait_empty = _faust_wait_empty()

    def __init__(self, should_stop: bool) -> None:
        self.should_stop = should_stop
        self.conf = SimpleNamespace(stream_wait_empty=True)


class Unhandled:
    """A consumer holding a record a stage left unhandled: it is never acked."""

    def __init__(self) -> None:
        self.committed = 0
        self.waited = False

    async def wait_empty(self) -> None:
        self.waited = True
        await asyncio.Event().wait()  # the record is read again after the restart

    async def commit(self) -> None:
        self.committed += 1


async def test_a_stopping_worker_commits_and_goes_on_without_its_unhandled_records() -> None:
    patches.stop_without_waiting(Stopping)
    log = logging.getLogger("test")
    consumer = Unhandled()
    await asyncio.wait_for(Stopping(True)._consumer_wait_empty(consumer, log), timeout=1)
    assert consumer.committed == 1
    assert not consumer.waited
    # A rebalance still waits for the stages to finish their batches.
    rebalance = asyncio.ensure_future(Stopping(False)._consumer_wait_empty(consumer, log))
    for _ in range(100):  # until it is waiting
        if consumer.waited:
            break
        await asyncio.sleep(0)
    assert consumer.waited
    assert not rebalance.done()
    assert consumer.committed == 1
    rebalance.cancel()


def test_a_table_keyed_like_a_topic_is_read_and_written_as_a_record_of_its_key() -> None:
    """Faust's RocksDB store asserts a current event and keeps a key in the database of
    that event's partition (its changelog record goes there too). The delivery stage
    reads and writes its table from tasks that handle no record (every write failed),
    or that inherited another record (a key landed in another worker's partition)."""
    from aiokafka.partitioner import DefaultPartitioner
    from faust.streams import current_event

    from concord.streams.patches import handling
    from concord.streams.tables import Shape, Table
    from tests.unit.streams.fakes import Event, Message

    seen: list[tuple[str, str, int]] = []

    class RocksLike(FaustTable):
        """Faust's RocksDB store, one database per partition, as a dict per partition."""

        def at(self) -> dict[str, Any]:
            event = current_event()
            assert event is not None, "Faust's RocksDB store: assert event is not None"
            return cast(dict[str, Any], self.setdefault(str(event.message.partition), {}))

        def __setitem__(self, key: str, value: Any) -> None:
            event = current_event()
            self.at()[key] = value
            assert event is not None
            seen.append(("set", event.message.topic, event.message.partition))

        def get(self, key: str, default: Any = None) -> Any:
            return self.at().get(key, default)

    class App(FaustApp):
        def Table(self, *args: Any, **kwargs: Any) -> RocksLike:
            return RocksLike()

    table = Table(App(), "deliveries", str, Shape(4), keyed_like="concord.outgoing", holds=False)
    keys = [f"task-{n}.police-duty" for n in range(12)]
    for key in keys:
        table[key] = "on its way"
    every = [0, 1, 2, 3]
    # As the producer partitions `concord.outgoing`: the worker that has the key's record.
    wanted = [DefaultPartitioner()(key.encode(), every, every) for key in keys]
    assert seen == [("set", "concord.outgoing", p) for p in wanted]
    assert len(set(wanted)) > 1
    assert current_event() is None
    # A lane's task that inherited the record it was started from reads the key's own.
    other = Event(Message(b"", 0, partition=(wanted[0] + 1) % 4))
    with handling(other):
        assert table.get(keys[0]) == "on its way"


RESUMES = [
    # records queued, tables recovered -> seeks back
    (1, True, 1),
    (0, True, 0),  # nothing was thrown away: no seek
    (1, False, 0),  # a changelog phase of the recovery: the recovery reads on
]


@pytest.mark.parametrize(("queued", "recovered", "seeks"), RESUMES)
def test_records_flow_control_clears_at_the_end_of_a_rebalance_are_read_again(
    queued: int, recovered: bool, seeks: int
) -> None:
    from mode.utils.queues import FlowControlEvent, FlowControlQueue

    async def rebalance_ends() -> tuple[int, int]:
        sought: list[int] = []

        async def perform_seek() -> None:
            sought.append(1)

        done = asyncio.Event()
        if recovered:
            done.set()
        app = SimpleNamespace(
            flow_control=FlowControlEvent(),
            consumer=SimpleNamespace(perform_seek=perform_seek),
            tables=SimpleNamespace(recovery=SimpleNamespace(completed=done)),
        )
        queue: FlowControlQueue[int] = FlowControlQueue(
            flow_control=app.flow_control, clear_on_resume=True
        )
        app.flow_control.suspend()
        for offset in range(queued):
            queue.put_nowait(offset)  # Faust's conductor puts without waiting
        patches.reread_cleared(app)
        app.flow_control.resume()  # empties the streams' queues
        for _ in range(5):
            await asyncio.sleep(0)
        return queue.qsize(), len(sought)

    assert asyncio.run(rebalance_ends()) == (0, seeks)
