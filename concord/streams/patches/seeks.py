"""Seeks: what Faust and aiokafka do when a worker goes back to its committed offsets
(after a rebalance, and whenever records come while its flow is stopped)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from faust.transport.utils import DefaultSchedulingStrategy

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


class SeekAware(DefaultSchedulingStrategy):
    """Faust's order of records (`ConsumerScheduler`), told of each seek
    (`seeks_reset_read_offsets`): records fetched before a seek and handed out after it
    leave the read offsets as the seek set them.

    Faust drops a record whose offset is below its partition's read offset: one it has
    read already. A seek sets the read offsets back to the committed ones. But a batch
    fetched before the seek may still be being handed out, and each of its records sets
    its partition's read offset again, past the records the seek went back for: when
    they came again, Faust dropped them as read. A task whose `created` event was the
    first record of its partition was never made after a crash (the crash test, one run
    in ten under load). Here, once a seek has happened while a batch is handed out, the
    read offsets the seek set are put back after each of its records; those records
    still reach the stages (read again after the seek, they are handled twice: every
    stage takes a record twice safely)."""

    def __init__(self) -> None:  # Faust's strategy keeps no state of its own
        self.seeks = 0
        self.after_seek: dict[Any, int | None] = {}
        self.read_offsets: dict[Any, int | None] | None = None

    def sought(self, read_offsets: dict[Any, int | None]) -> None:
        """A seek just set these read offsets (the consumer's own mapping)."""
        self.seeks += 1
        self.after_seek = dict(read_offsets)
        self.read_offsets = read_offsets

    def iterate(self, records: Mapping[Any, list[Any]]) -> Iterator[tuple[Any, Any]]:
        """Faust's order; after a record handed out across a seek, the seek's offsets."""
        seen = self.seeks
        for item in super().iterate(records):
            yield item  # resumed once Faust has set the read offset of this record
            self._undo_if_sought(seen)
        self._undo_if_sought(seen)

    def _undo_if_sought(self, seen: int) -> None:
        if self.seeks != seen and self.read_offsets is not None:
            self.read_offsets.update(self.after_seek)


def seeks_reset_read_offsets(consumer_class: Any = None) -> None:
    """Make each seek to the committed offsets tell the consumer's `SeekAware`
    scheduler which read offsets it set."""
    from faust.transport.consumer import Consumer

    cls: Any = consumer_class or Consumer
    original = getattr(cls, "_concord_perform_seek", None) or cls.perform_seek

    async def perform_seek(self: Any) -> None:
        await original(self)
        if isinstance(self.scheduler, SeekAware):
            self.scheduler.sought(self._read_offset)

    cls._concord_perform_seek = original
    cls.perform_seek = perform_seek
