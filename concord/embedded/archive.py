"""The single-machine archive: a durable copy of the embedded broker on disk.

The embedded broker (Tansu 0.6.0) keeps everything in memory. `concord up` therefore
runs an archiver (`concord.embedded.archiver`, in a process of its own) that copies
every record of every topic — key, value, headers, timestamp, partition and offset,
Faust's table changelogs included — and the
consumer groups' committed offsets into SQLite (`$CONCORD_DATA_DIR/archive.sqlite3`,
WAL mode). At the next start, `restore` produces them back, in offset order, into the
fresh broker and commits the groups' offsets, before any worker starts: situations,
tasks, reviews, tokens, audit, dead letters, pending deliveries and timers come back.

Personal data: the archive holds sealed values only, and keeps no key longer than the
broker should. A record on `concord.keys` (a re-wrapped key, a tombstone) deletes the
key's earlier records at once, so an erased key is gone from the disk, not just hidden;
and raw producer bytes (`concord.signals.in`, not sealed yet) are deleted once the
worker's group has consumed them.

What a crash can lose: the records produced in the last `FLUSH_SECONDS` (0.5 s) before
it, and the group offsets committed since the last poll (at most `OFFSETS_SECONDS`,
1 s: those records are processed again, and the stages' effects are idempotent).

Not used with an external broker (`CONCORD_BROKER`): Apache Kafka keeps its own log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
OFFSETS_SECONDS = 1.0
#: Faust's internal topic for the partition assignor: nothing to keep.
SKIPPED = ("__assignor-__leader", "__consumer_offsets")

SCHEMA = """
create table if not exists records (
    topic text not null, partition integer not null, offset integer not null,
    key blob, value blob, headers text not null, timestamp integer not null,
    primary key (topic, partition, offset)
) without rowid;
create table if not exists topics (
    topic text primary key, partitions integer not null, compacted integer not null
);
create table if not exists offsets (
    grp text not null, topic text not null, partition integer not null,
    offset integer not null, primary key (grp, topic, partition)
) without rowid;
"""


@dataclass(frozen=True)
class Record:
    """One archived record: topic, partition, offset, key, value, timestamp."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp: int


class Archive:
    """The SQLite file (one writer: the archiver; `restore` reads it before it starts)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        # A deleted record (an erased key) is overwritten on disk, not left in a free page.
        self.db.execute("pragma secure_delete=on")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        """Close the archive's database."""
        with self.lock:
            self.db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is on disk, or none of it (a crash, an error)."""
        with self.lock:
            self.db.execute("begin")
            try:
                yield self.db
            except BaseException:
                self.db.execute("rollback")
                raise
            self.db.execute("commit")

    def _insert(self, db: sqlite3.Connection, records: list[Record]) -> None:
        rows = [
            (
                r.topic,
                r.partition,
                r.offset,
                r.key,
                r.value,
                json.dumps([(k, v.hex()) for k, v in r.headers]),
                r.timestamp,
            )
            for r in records
        ]
        db.executemany("insert or ignore into records values (?,?,?,?,?,?,?)", rows)

    def add(self, records: list[Record], shredded: frozenset[str] = frozenset()) -> None:
        """Keep records; on a `shredded` topic a record deletes its key's earlier ones."""
        with self._transaction() as db:
            self._insert(db, records)
            before = db.total_changes
            db.executemany(
                "delete from records where topic = ? and partition = ? and key = ? and offset < ?",
                [(r.topic, r.partition, r.key, r.offset) for r in records if r.topic in shredded],
            )
            shredding = db.total_changes - before > 0
        if shredding:  # and not left in the write-ahead log's older page copies either
            with self.lock:
                self.db.execute("pragma wal_checkpoint(truncate)")

    def drop_below(self, topic: str, partition: int, offset: int) -> None:
        """Delete a partition's records before `offset` (consumed raw bytes)."""
        with self.lock:
            gone = self.db.execute(
                "delete from records where topic = ? and partition = ? and offset < ?",
                (topic, partition, offset),
            ).rowcount
            if gone > 0:  # not left in the write-ahead log's older page copies either
                self.db.execute("pragma wal_checkpoint(truncate)")

    def set_topics(self, topics: dict[str, tuple[int, bool]]) -> None:
        """Record the topics and their settings (partitions, compacted), for a restore."""
        with self.lock:
            self.db.executemany(
                "insert or replace into topics values (?,?,?)",
                [(t, n, int(c)) for t, (n, c) in topics.items()],
            )

    def set_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Record a consumer group's committed offsets."""
        with self.lock:
            self.db.execute("begin")
            self.db.executemany(
                "insert or replace into offsets values (?,?,?,?)",
                [(group, t, p, o) for (t, p), o in offsets.items()],
            )
            self.db.execute("commit")

    def topics(self) -> dict[str, tuple[int, bool]]:
        """The archived topics: name -> (partitions, compacted)."""
        with self.lock:
            rows = self.db.execute("select topic, partitions, compacted from topics").fetchall()
        return {t: (n, bool(c)) for t, n, c in rows}

    def offsets(self) -> dict[str, dict[tuple[str, int], int]]:
        """The archived committed offsets: group -> (topic, partition) -> offset."""
        with self.lock:
            rows = self.db.execute("select grp, topic, partition, offset from offsets").fetchall()
        out: dict[str, dict[tuple[str, int], int]] = {}
        for group, topic, partition, offset in rows:
            out.setdefault(group, {})[(topic, partition)] = offset
        return out

    def ends(self) -> dict[tuple[str, int], int]:
        """The next offset to archive per partition (what is kept ends just before)."""
        with self.lock:
            rows = self.db.execute(
                "select topic, partition, max(offset) from records group by topic, partition"
            ).fetchall()
        return {(t, p): o + 1 for t, p, o in rows}

    def renumber(self, topic: str, partition: int, where: dict[int, int]) -> None:
        """The partition's records under the offsets they have in the broker now."""
        records = list(self.records(topic, partition))
        # One transaction: a crash between the delete and the insert must not lose the
        # partition from the archive.
        with self._transaction() as db:
            db.execute("delete from records where topic = ? and partition = ?", (topic, partition))
            self._insert(db, [replace(r, offset=where.get(r.offset, r.offset)) for r in records])

    def count(self) -> int:
        """How many records the archive holds."""
        with self.lock:
            return int(self.db.execute("select count(*) from records").fetchone()[0])

    def records(self, topic: str, partition: int) -> Iterator[Record]:
        """A partition's records, in offset order."""
        with self.lock:
            rows = self.db.execute(
                "select offset, key, value, headers, timestamp from records "
                "where topic = ? and partition = ? order by offset",
                (topic, partition),
            ).fetchall()
        for offset, key, value, headers, timestamp in rows:
            pairs = [(k, bytes.fromhex(v)) for k, v in json.loads(headers)]
            yield Record(topic, partition, offset, key, value, pairs, timestamp)


def kept(topic: str) -> bool:
    """Whether a topic's records are archived (not the internal topics of Faust and Kafka)."""
    return not any(topic.endswith(s) for s in SKIPPED)
