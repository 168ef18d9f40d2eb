"""The archiver of `concord up`: copies every record of the embedded broker, and the
groups' committed offsets, into the archive (`concord.embedded.archive`), in a process of
its own."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concord.embedded.archive import FLUSH_SECONDS, OFFSETS_SECONDS, Archive, Record, kept

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """What the archiver copies from (picklable: it crosses into the archiver's process)."""

    bootstrap: str
    #: the consumer groups whose committed offsets are kept
    groups: tuple[str, ...]
    #: the compacted topics (snapshots); Faust's changelogs are compacted too
    compacted: frozenset[str]
    #: topics whose keys' earlier records are deleted by a later one (data keys)
    shredded: frozenset[str] = frozenset()
    #: topics whose records are deleted once every group has consumed them (raw bytes)
    consumed: frozenset[str] = frozenset()


class Archiver:
    """Copies every record and the groups' offsets into the archive, in a thread."""

    def __init__(self, archive: Archive, source: Source) -> None:
        self.archive = archive
        self.source = source
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="concord-archiver", daemon=True)
        #: when the archive last caught up with the broker (monotonic), for `lag`
        self.flushed_at = 0.0

    def start(self) -> Archiver:
        """Start copying in the background; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Copy what is left, then stop."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._copy()
            except Exception:  # the broker went away: try again, never lose the thread
                log.exception("archiver: copying failed; retrying")
                self._stop.wait(1.0)

    def _copy(self) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        consumer = KafkaConsumer(
            bootstrap_servers=self.source.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            # Fewer, fuller fetches: each one costs the broker too (within FLUSH_SECONDS).
            fetch_max_wait_ms=200,
            fetch_min_bytes=64 * 1024,
            client_id="concord-archiver",
            # kafka-python checks each batch's CRC-32C in pure Python (no C module here):
            # most of the archiver's CPU, for bytes that crossed the loopback only.
            check_crcs=False,
        )
        admin = KafkaAdminClient(
            bootstrap_servers=self.source.bootstrap, client_id="concord-archiver"
        )
        try:
            assigned: set[Any] = set()
            next_topics = next_offsets = 0.0
            pending: list[Record] = []
            flushed = time.monotonic()
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_topics:
                    assigned = self._assign(consumer, assigned)
                    next_topics = now + 1.0
                batches = consumer.poll(timeout_ms=100, max_records=5000)
                for tp, items in batches.items():
                    pending += [
                        Record(
                            tp.topic,
                            tp.partition,
                            m.offset,
                            m.key,
                            m.value,
                            list(m.headers or []),
                            m.timestamp,
                        )
                        for m in items
                    ]
                now = time.monotonic()
                if pending and now - flushed >= FLUSH_SECONDS / 2:
                    self.archive.add(pending, self.source.shredded)
                    pending, flushed = [], now
                if not pending:
                    self.flushed_at = now
                if now >= next_offsets:
                    self._offsets(admin)
                    next_offsets = now + OFFSETS_SECONDS
            if pending:
                self.archive.add(pending, self.source.shredded)
            self._offsets(admin)  # at a clean stop, the last offsets too
        finally:
            consumer.close()
            admin.close()

    def _assign(self, consumer: Any, assigned: set[Any]) -> set[Any]:
        from kafka import TopicPartition

        described: dict[str, tuple[int, bool]] = {}
        for topic in consumer.topics():  # refreshes the metadata of every topic
            if not kept(topic):
                continue
            parts = consumer.partitions_for_topic(topic) or set()
            if parts:
                compacted = topic in self.source.compacted or topic.endswith("-changelog")
                described[topic] = (len(parts), compacted)
        wanted = {TopicPartition(t, p) for t, (n, _) in described.items() for p in range(n)}
        if wanted == assigned:
            return assigned
        self.archive.set_topics(described)
        consumer.assign(list(wanted))
        ends = self.archive.ends()
        for tp in wanted:
            start = ends.get((tp.topic, tp.partition))
            if start is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, start)
        return wanted

    def _offsets(self, admin: Any) -> None:
        from kafka.errors import KafkaError

        for group in self.source.groups:
            try:
                found = admin.list_group_offsets(group).get(group, {})
            except KafkaError:  # no such group yet
                continue
            offsets = {
                (tp.topic, tp.partition): om.offset for tp, om in found.items() if om.offset >= 0
            }
            if offsets:
                self.archive.set_offsets(group, offsets)
            for (topic, partition), offset in offsets.items():
                if topic in self.source.consumed:
                    self.archive.drop_below(topic, partition, offset)


class ArchiverProcess:
    """The `Archiver` in a process of its own. It decodes every record the broker holds;
    in the worker's process it would hold the interpreter lock the worker needs (a third
    of `concord up`'s throughput, `bench/up.py`). It stops when told, and also when the
    process that started it is gone (a crash of `concord up`)."""

    def __init__(self, path: Path, source: Source) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the worker's state
        self._stop = context.Event()
        self._proc = context.Process(
            target=_copy_until_told,
            args=(str(path), source, self._stop, os.getpid()),
            name="concord-archiver",
            daemon=True,
        )

    def start(self) -> ArchiverProcess:
        """Start the process; returns self."""
        self._proc.start()
        return self

    def stop(self) -> None:
        """Copy what is left, then stop (killed if it does not within 20 s)."""
        self._stop.set()
        self._proc.join(timeout=20)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5)


def _copy_until_told(path: str, source: Source, stop: Any, parent: int) -> None:
    """The archiver process: copy until `stop` is set or the parent is gone."""
    # Ctrl-C, and a supervisor's SIGTERM, reach the whole process group. `concord up`
    # decides when the copy ends: after its worker has stopped writing, so the last
    # records are kept, and without a traceback of ours on the console.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    archive = Archive(Path(path))
    archiver = Archiver(archive, source).start()
    try:
        while not stop.wait(0.5):
            if os.getppid() != parent:  # concord up died: nothing will stop us
                break
    finally:
        archiver.stop()
        archive.close()
