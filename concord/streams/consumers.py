"""Kafka consumers that poll briefly: every consumer of a worker (Faust's and the read
model's) waits at most `fetch_wait_ms` for data per fetch."""

from __future__ import annotations

from typing import Any


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
