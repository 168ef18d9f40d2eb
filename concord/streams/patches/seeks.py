"""Seeks: what Faust and aiokafka do when a worker goes back to its committed offsets
(after a rebalance, and whenever records come while its flow is stopped)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

#: the per-partition trace (`concord.streams.patches.trace_partitions`)
trace = logging.getLogger("concord.trace")


def seek_unread_from_start(thread: Any = None) -> None:
    """Make "seek to the committed offsets" send a stream partition that has no committed
    offset back to its first record.

    After a rebalance Faust seeks every partition to its committed offset, and does it
    again whenever records arrive while its flow is stopped (it drops them and counts on
    the seek to fetch them again). aiokafka's `seek_to_committed` skips a partition with
    no committed offset (None or 0): its position stays where the fetcher had already
    read to. A partition taken over from a worker that died before its first commit
    was read during the takeover, its records dropped, and never read again: after a
    SIGKILL the survivor held it active, with no offset committed and no record read,
    and the tasks of the situations in it were never planned (`bench/crash_recovery.py`,
    3 runs in 14). Changelog partitions are left alone: tables recover on their own.
    """
    from faust.transport.drivers import aiokafka as driver

    cls: Any = thread or driver.AIOKafkaConsumerThread
    original = getattr(cls, "_concord_seek_to_committed", None) or cls.seek_to_committed

    async def seek_to_committed(self: Any) -> Mapping[Any, int]:
        committed: Mapping[Any, int] = await original(self)
        changelogs = self.app.tables.changelog_topics
        unread = [tp for tp, at in committed.items() if not at and tp.topic not in changelogs]
        if unread:
            trace.info(
                "seek to the first record (no committed offset): %s",
                ", ".join(f"{tp.topic}:{tp.partition}" for tp in unread),
            )
            await self.call_thread(self._ensure_consumer().seek_to_beginning, *unread)
        return committed

    cls._concord_seek_to_committed = original
    cls.seek_to_committed = seek_to_committed


def reread_cleared(app: Any) -> None:
    """Read again what Faust's flow control clears when a rebalance ends.

    At the end of a rebalance Faust seeks the stream partitions to their committed
    offsets, then resumes its flow control, which empties every stream's queue. The
    consumer's flow is already running by then (it read the changelogs), so records
    fetched after the seek and queued before the resume were thrown away, and nothing
    fetched them again: the fetcher had moved past them. After a crash drill of the track
    stage, about one run in twenty under load, a task whose `created` event was the first
    record of its partition was never made (the trace: the partition's first batch
    after the restart began at offset 1, nothing committed). Now, when the resume empties
    queues that held records, once the tables are recovered, the consumer seeks back to
    the committed offsets again; records handled meanwhile come twice, and every stage
    takes a record twice safely."""
    flow = app.flow_control
    clear = flow.clear
    seeks: set[asyncio.Future[None]] = set()  # kept until done (the loop holds weak refs)

    def clearing() -> None:
        dropped = sum(queue.qsize() for queue in list(flow._queues))
        clear()
        if dropped and app.tables.recovery.completed.is_set():
            trace.info("flow control dropped %d record(s): seek back to read them", dropped)
            seek = asyncio.ensure_future(app.consumer.perform_seek())
            seeks.add(seek)
            seek.add_done_callback(seeks.discard)

    flow.clear = clearing
