"""Every change Concord makes to the internals of Faust and aiokafka, in one place. Each
is pinned by `constraints.txt` and has a test that fails without it.

- `short_polls`, `fetch_wait`: consumers wait at most `fetch_wait_ms` per fetch (Tansu
  answers fetches one at a time: long polls held every hop ~750 ms). Tested in
  tests/unit/streams/test_patches.py.
- `exact_highwaters` (`true_ends`): table recovery reads each changelog to its true end
  (Tansu reports the last batch's base + 1). Tested in
  tests/integration/test_recovery_ends.py.
- `prompt_producer` (in `producer`): a record goes to the Kafka client without the
  three turns of the event loop Faust's producer lookup took on every send. Tested in
  tests/unit/streams/test_patches.py.
- `durable_flush` (in `producer`): the producer's flush waits for every write made
  before it, including one the buffer is handing to the client at that moment, and for
  nothing made after it (Faust's waits until its buffer is empty); it counts the writes
  a flush made durable (`Writes`), so a write need not wait for a flush of its own. Tested in
  tests/unit/streams/test_patches.py.
- `seek_unread_from_start` (in `seeks`): a stream partition with no committed offset
  goes back to its first record when Faust seeks to the committed offsets (aiokafka
  leaves it where the fetcher had read to). Tested in tests/unit/streams/test_patches.py.
- `reread_cleared` (in `seeks`): records Faust's flow control clears from the streams'
  queues when a rebalance ends are read again (a seek back to the committed offsets).
  Tested in tests/unit/streams/test_patches.py and tests/integration/test_batches.py.
- `trace_partitions` (`CONCORD_TRACE`): commits, recovery and take-ups traced per
  partition. Tested in tests/unit/streams/test_patches.py.
- `batches`: Faust's `Stream.take_events` without its timer: a stage waits for its
  next record without waking up every few ms. Tested in tests/unit/streams/test_patches.py.
- `stop_without_waiting`: a stopping worker commits what was acked and goes on; it no
  longer waits for the records a stage left unhandled (read again after the restart).
  Tested in tests/unit/streams/test_patches.py and tests/integration/test_batches.py.
- `handling`: the record a stage handles is the stream's current event, so a table write
  goes to its partition's changelog. Tested in tests/unit/streams/test_patches.py.
- `keyed`: a table used outside any record is used as a record of its key's partition.
  Tested in tests/unit/streams/test_patches.py (with RocksDB, test_batches.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)
#: Per-partition tracing (`CONCORD_TRACE`): quiet unless `trace_partitions` turned it on.
trace = logging.getLogger("concord.trace")
trace.setLevel(logging.WARNING)


def short_polls(consumer: Any, ms: int) -> Any:
    """An aiokafka consumer (not started yet) that waits at most `ms` per fetch, and as
    long for records it has not handed out yet before it fetches again.

    aiokafka fetches nothing from a broker while one of its partitions holds records not
    consumed yet, up to `prefetch_backoff` (100 ms): with one broker, any busy stream
    held every other one back that long (the p99 of each hop was ~120 ms).
    """
    consumer._fetch_max_wait_ms = ms  # read by aiokafka when the consumer starts
    start = consumer.start

    async def started() -> None:
        await start()
        consumer._fetcher._prefetch_backoff = ms / 1000

    consumer.start = started
    return consumer


async def batches(stream: Any, most: int, within: float) -> AsyncIterator[list[Any]]:
    """The events of a Faust `stream` in batches, each acked once the caller is done
    with it (when it asks for the next batch; never when its handling raised).

    As Faust's `take_events`, the stream is drained in the background into a buffer
    (the drain waits while the buffer holds `most`); unlike it, nothing runs while no
    record comes: `take_events` wakes every `within` seconds to look at its buffer,
    which cost an idle worker 7% of a core with one wake-up every 5 ms per stage. Here a
    batch starts with its first record, gathers for `within` more seconds (0: only what
    is already waiting), and under load the records that come while a batch is handled
    make the next one."""
    buffer: list[Any] = []
    waiting = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def add(value: Any) -> Any:
        buffer.append(stream.current_event)
        waiting.set()
        if len(buffer) >= most:
            room.clear()
            await room.wait()
        return value

    stream.enable_acks = False  # acked below, once handled
    stream.add_processor(add)
    stream._enable_passive(aiter(stream.channel))
    while not stream.should_stop:
        await waiting.wait()
        if within > 0 and len(buffer) < most:
            await asyncio.sleep(within)
        else:
            await asyncio.sleep(0)  # what the drain has in hand joins the batch
        batch = buffer[:most]
        del buffer[: len(batch)]
        if not buffer:
            waiting.clear()
        room.set()
        yield batch
        # Acked only once the caller asks for more: a batch whose handling raised is
        # never acked, Faust commits nothing past it, and it is read again.
        for event in batch:
            await stream.ack(event)


@contextlib.contextmanager
def handling(event: Any) -> Iterator[None]:
    """Make `event` the stream's current event while the block handles it.

    A Faust table write picks its changelog partition from the current event (the
    partition of the record being handled), so that the table moves with the stream's
    partitions. `Stream.take_events` gathers a batch in a background task and leaves the
    agent's current event unset (or at another record): a table write made while a
    batch is handled would raise, or land in another record's partition, which a worker
    that takes over that partition never recovers."""
    from faust.streams import _current_event

    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class _Keyed:
    """A stand-in for the record being handled: Faust reads its topic and partition."""

    def __init__(self, topic: str, partition: int) -> None:
        self.message = SimpleNamespace(topic=topic, partition=partition)


@functools.lru_cache(maxsize=65536)
def partition_of(key: str, partitions: int) -> int:
    """The producer's default partition of `key` (murmur2), without asking it (it may
    have no metadata yet); cached: each step of a delivery asks (16 µs a time)."""
    from aiokafka.partitioner import murmur2

    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@contextlib.contextmanager
def keyed(topic: str, key: str, partitions: int) -> Iterator[None]:
    """Make a table read or write as if handling a record of `topic` with this key.

    The delivery stage's table is written from tasks that handle no record (a retry, a
    take-up). Faust's RocksDB store asserts a current event and keeps a key in the
    database of its partition, where the changelog record goes too: outside a record
    every write failed, and Faust's partitioner (over the key as JSON) put records in
    another worker's changelog partitions, whose restored offsets then skipped them."""
    event = _Keyed(topic, partition_of(key, partitions))
    with handling(event):
        yield


def fetch_wait(ms: int) -> None:
    """Make every Kafka consumer of this process wait at most `ms` for data per fetch.

    Faust's consumer long-polls with `fetch_max_wait_ms=1500`, fixed. A broker that
    answers fetches one at a time (Tansu does) then holds every other consumer's fetch
    behind an idle one: measured here, each hop of the flow waited ~750 ms on average,
    ~3 s from POST to Slack. With short polls a hop takes a few milliseconds; on Apache
    Kafka they cost a few more small requests per second.
    """
    from faust.transport.drivers import aiokafka as driver

    thread = driver.AIOKafkaConsumerThread
    create = getattr(thread, "_concord_create", None) or thread._create_worker_consumer

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        return short_polls(create(self, transport), ms)

    thread._concord_create = create  # type: ignore[attr-defined]
    thread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]


async def true_ends(bootstrap: Any, reported: Mapping[Any, int | None]) -> dict[Any, int | None]:
    """The end offset of each partition, read from the log rather than believed.

    Tansu answers ListOffsets LATEST with the last record *batch's* base offset + 1: a
    changelog whose last batch holds five records reads as four short. Faust recovers a
    table up to that offset, so a worker that takes over (or restarts) would miss the
    last writes of a table — a delivery recorded as in flight, a task's last move. Here
    each non-empty partition is read from its reported end - 1 to the end of that batch;
    on Apache Kafka this finds the same end.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    wanted = {TopicPartition(tp.topic, tp.partition): tp for tp, end in reported.items() if end}
    if not wanted:
        return dict(reported)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    found: dict[Any, int] = {}
    try:
        consumer.assign(list(wanted))
        for tp, faust_tp in wanted.items():
            consumer.seek(tp, int(reported[faust_tp] or 1) - 1)
        deadline = asyncio.get_running_loop().time() + 10
        while len(found) < len(wanted) and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                if records:
                    found[wanted[tp]] = max(found.get(wanted[tp], 0), records[-1].offset + 1)
    finally:
        await consumer.stop()
    if len(found) < len(wanted):
        log.warning("end offsets: %d partition(s) not read back", len(wanted) - len(found))
    exact = {tp: max(end or 0, found.get(tp, 0)) or end for tp, end in reported.items()}
    short = {tp: (reported[tp], end) for tp, end in exact.items() if end != reported[tp]}
    for tp, end in sorted(exact.items()):
        trace.info(
            "end offset %s:%s reported %s, read %s", tp.topic, tp.partition, reported[tp], end
        )
    if short:
        log.info("end offsets: %d partition(s) end past what the broker reported", len(short))
    return exact


def stop_without_waiting(app_class: Any = None) -> None:
    """Make a stopping worker commit what its stages acked and go on, instead of waiting
    for every record its streams took to be acked.

    Faust's stop waits (`Consumer.wait_empty`) until every record handed to a stream is
    acked, collecting garbage and committing once a second. A Concord stage that sees
    the worker stop leaves the rest of its batch unacked, to be read again after the
    restart (`agents/stage`), and the records drained for its next batch are never
    handled: Faust waited forever, and `concord up` or a worker stopped under load
    never exited. A rebalance still waits: its stages finish their batches and ack them.
    """
    from faust.app.base import App

    cls: Any = app_class or App
    original = getattr(cls, "_concord_consumer_wait_empty", None) or cls._consumer_wait_empty

    async def consumer_wait_empty(self: Any, consumer: Any, logger: Any) -> None:
        if not self.should_stop:
            await original(self, consumer, logger)
            return
        logger.info("Stopping: the records not handled yet are read again after the restart")
        await consumer.commit()

    cls._concord_consumer_wait_empty = original
    cls._consumer_wait_empty = consumer_wait_empty


def exact_highwaters() -> None:
    """Make Faust's table recovery read every changelog to its true end (`true_ends`)."""
    from faust.transport.drivers import aiokafka as driver

    thread = driver.AIOKafkaConsumerThread
    original = getattr(thread, "_concord_highwaters", None) or thread._highwaters

    async def highwaters(self: Any, partitions: Any) -> Any:
        reported = await original(self, partitions)
        if self.consumer.in_transaction:
            return reported
        bootstrap = self._ensure_consumer()._client._bootstrap_servers
        return await true_ends(bootstrap, reported)

    thread._concord_highwaters = original  # type: ignore[attr-defined]
    thread._highwaters = highwaters  # type: ignore[method-assign]


def trace_partitions() -> None:
    """Turn per-partition tracing on: every changelog record table recovery reads
    (Faust's own debug lines), the end offsets recovery reads to, every commit of
    offsets (asked, and whether the broker took it), and what the delivery stage takes
    up after a rebalance. Assignments and recovery's start and end are Faust's INFO
    lines already."""
    from faust.transport.consumer import Consumer

    trace.setLevel(logging.INFO)
    logging.getLogger("faust.tables.recovery").setLevel(logging.DEBUG)
    commit = getattr(Consumer, "_concord_commit_offsets", None) or Consumer._commit_offsets

    async def commit_offsets(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        did = await commit(self, offsets, start_new_transaction)
        listed = ", ".join(f"{tp.topic}:{tp.partition}@{o}" for tp, o in sorted(offsets.items()))
        trace.info("commit %s: %s", "done" if did else "NOT done", listed)
        return bool(did)

    Consumer._concord_commit_offsets = commit  # type: ignore[attr-defined]
    Consumer._commit_offsets = commit_offsets  # type: ignore[method-assign]


# The seeks' and the producer's patches live beside these, in modules of their own (the
# size of a module).
from concord.streams.patches.producer import (  # noqa: E402
    Writes,
    durable_flush,
    prompt_producer,
)
from concord.streams.patches.seeks import (  # noqa: E402
    reread_cleared,
    seek_unread_from_start,
)

__all__ = [
    "Writes",
    "durable_flush",
    "prompt_producer",
    "reread_cleared",
    "seek_unread_from_start",
]
