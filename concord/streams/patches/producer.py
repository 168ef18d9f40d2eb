"""The producer: what a flush waits for, and how a record reaches the Kafka client."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


def prompt_producer(topic_class: Any = None) -> None:
    """Hand a record to the Kafka client without giving up the event loop three times.

    Every record Faust sends (a topic's `send`, a table's changelog write) asks the app
    for its producer first, through mode's `stampede` wrapper, which yields to the event
    loop three times (`asyncio.sleep(0)`) on every call, long after the producer has
    started. Under load every other task of the loop runs between those turns: Faust's
    buffer handed table writes to the client at about 2 ms each, so a stage waiting
    for its batch's writes to be durable waited for everyone's (about 200 ms a batch
    of the correlate stage at 100 single POSTs a second, the flow's bottleneck). Once
    the producer runs (and no transaction is in use), it is returned as it is.
    """
    if topic_class is None:
        from faust.topics import Topic as topic_class
    cls: Any = topic_class
    original = getattr(cls, "_concord_get_producer", None) or cls._get_producer

    async def get_producer(self: Any) -> Any:
        app = self.app
        producer = app.producer
        if producer.started and not app.in_transaction:
            return producer
        return await original(self)

    cls._concord_get_producer = original
    cls._get_producer = get_producer


@dataclass
class Writes:
    """The table writes a producer was given (`put`), those its buffer handed to the Kafka
    client (`handed`), and how many of the first are durable (`durable`: the writes made
    before the last flush began, once it ended). A write's number is `put` just after it."""

    put: int = 0
    handed: int = 0
    durable: int = 0


def durable_flush(producer: Any) -> Writes:
    """Make the producer's `flush` wait for every write made before the call; returns
    the counts it keeps, so that a caller can tell whether a write of its is durable
    already (any flush since made it so, the one before each commit of offsets
    included).

    Table writes go through Faust's `ProducerBuffer`: a queue that one task empties,
    handing each message to the Kafka client. Faust's own flush counts what is still in
    the queue, and its buffer's flush gives up after 0.1 s without progress, so it could
    return while a write was still in the buffer — or already taken off the queue and
    not yet in the client's batches (the client waits for the partition's metadata
    first). A crash right after such a flush lost the write: a delivery recorded as "on
    its way" before its carrier was called was not in the changelog, and after the
    restart nothing was taken up (the in-doubt takeover failed about one run in three).

    Here every message put in the buffer is counted, and so is every message the buffer
    has handed to the client; the buffer hands them over in order, so once the second
    count reaches the first count as it was when `flush` was called, every write made
    before it is in the client, whose own flush then waits for the broker's acks.

    Only the client is flushed then: Faust's buffer flush waits until the buffer is
    empty, so under load for the writes other stages made after the flush began.
    """
    buffer: Any = producer.buffer
    counts = Writes()
    progressed = asyncio.Event()
    put, hand = buffer.put, buffer._send_pending

    def counted_put(fut: Any) -> None:
        put(fut)
        counts.put += 1

    async def counted_hand(fut: Any) -> None:
        try:
            await hand(fut)
        finally:
            counts.handed += 1
            progressed.set()

    buffer.put = counted_put
    # Read by the buffer's task when it starts: patched before the app starts.
    buffer._send_pending = counted_hand
    flush_sent = functools.partial(_flush_client, producer, producer.flush)

    async def flush() -> None:
        target = counts.put
        while counts.handed < target:
            progressed.clear()
            try:
                await asyncio.wait_for(progressed.wait(), timeout=1.0)
            except TimeoutError:
                if buffer.should_stop:
                    break
        await flush_sent()
        if counts.handed >= target:  # not when the buffer stopped before handing them
            counts.durable = max(counts.durable, target)

    producer.flush = flush
    return counts


async def _flush_client(producer: Any, flush_all: Callable[[], Awaitable[None]]) -> None:
    """Wait for the Kafka client's batches; Faust's whole flush before it starts."""
    client = getattr(producer, "_producer", None)
    if client is None:
        await flush_all()
    else:
        await client.flush()
