"""`Table[V]`: the typed seam around a Faust table.

A stage's state lives in Faust tables (in memory or RocksDB, backed by a compacted
changelog topic). Keys are `str`: Faust recovers bytes keys from the changelog silently
wrong. Values are kept as compact JSON bytes (pydantic's Rust encoder) and come back as
the table's type: no stage reads an untyped dict.

Why bytes, not the decoded value or its dict: a table holds every open situation and
task, and a JSON dict of one costs several times its text in Python objects (100,000
open situations took over 2 GB of a worker as dicts); Faust writes the bytes to the
changelog as they are (no second encoding), and a write that would not change the bytes
is not written at all. The changelog's format is the same JSON as before, so a table
written by an earlier Concord recovers unchanged.

Scans that read a field or two of every entry each tick (deadlines, the delivery
take-up) use `project`, which reads the whole table once per rebalance and recovery,
and after that only the entries the table wrote since.

Each table is created by the one stage that writes it (`docs/architecture.md` lists
them); nothing else holds a reference to it.

While its stage handles a batch, a table's writes are held until the records the batch
sent are durable (`concord.streams.held`): `get` and `in` see them, scans (`items`,
`project`) see only what is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from pydantic_core import from_json

from concord.config.settings import Settings
from concord.streams import held
from concord.streams.patches import keyed

V = TypeVar("V")
P = TypeVar("P")


MB = 1024 * 1024


@dataclass(frozen=True)
class Shape:
    """How a worker's tables are laid out: their partitions, and the options of their
    store (Faust's `RocksDBOptions`; the memory store takes none)."""

    partitions: int
    options: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> Shape:
        """The shape `settings` give. RocksDB opens one database per table partition,
        and Faust's defaults give each 64 MB write buffers (three of them) and a 2 GB
        block cache: a worker of seven tables on four partitions held the last writes of
        every table in memory, twice the memory store's footprint at 20,000 open
        situations. Small buffers flush to disk early; reads of older values come from
        the disk, which the OS caches."""
        if not settings.store.startswith("rocksdb:"):
            return cls(settings.partitions)
        options = {
            "write_buffer_size": int(settings.store_buffer_mb * MB),
            "max_write_buffer_number": 2,
            "block_cache_size": int(settings.store_cache_mb * MB),
        }
        return cls(settings.partitions, options)


@dataclass
class Projection:
    """A scan's picks of every entry, as of a rebalance and a recovery (`stamp`), kept
    up to date by the table's own writes (`dirty`: keys written since the last scan)."""

    stamp: tuple[int, int]
    picks: dict[str, Any]
    dirty: set[str] = field(default_factory=set)


class Table(Generic[V]):
    """A Faust table whose keys are `str` and whose values are `V` (a model or a scalar)."""

    def __init__(
        self,
        app: Any,
        name: str,
        kind: type[V],
        shape: Shape,
        *,
        keyed_like: str | None = None,
        holds: bool = True,
        marker: bool = False,
        help: str = "",
    ) -> None:
        self.name = name
        #: whether its writes are held while its stage handles a batch (`held`)
        self.holds = holds
        #: whether its writes say that the other tables hold a record's work: written
        #: last, once theirs are durable (`held.Held.release`)
        self.marker = marker
        # keyed_like: the table is read and written outside the agent's own event (from a
        # lane's task): each key as a record of that topic with this key (`patches.keyed`),
        # so its changelog partition is the one its stage's worker owns.
        # value_type=bytes: Faust's "raw" serializer, the bytes go to the changelog as is.
        self.faust = app.Table(
            name,
            default=None,
            partitions=shape.partitions,
            value_type=bytes,
            help=help,
            # A copy: Faust's store pops its own keys from the mapping it is given.
            options=dict(shape.options),
        )
        self._partitions = shape.partitions
        self._keyed_like = keyed_like
        self._adapter: TypeAdapter[V] = TypeAdapter(kind)
        self._app = app
        self._projections: dict[str, Projection] = {}
        #: recoveries of the table so far: what a recovery wrote did not go through
        #: `write_now`, so a projection made before it is read again whole
        self._recoveries = 0
        self.faust.on_recover(self._recovered)

    def _stored(self, key: str) -> bytes | None:
        """The bytes of `key` as its stage sees them: held writes first."""
        writes = held.current() if self.holds else None
        if writes is not None:
            found, value = writes.lookup(self, key)
            if found:
                return value
        with self._as_record(key):
            stored: bytes | None = self.faust.get(_key(key))
        return stored

    def _as_record(self, key: str) -> contextlib.AbstractContextManager[None]:
        if self._keyed_like is None:
            return contextlib.nullcontext()
        return keyed(self._keyed_like, _key(key), self._partitions)

    def get(self, key: str) -> V | None:
        """The value of `key`, or None."""
        stored = self._stored(key)
        return None if stored is None else self._adapter.validate_json(stored)

    def __setitem__(self, key: str, value: V) -> None:
        self.put(key, self.encode(value))

    def encode(self, value: V) -> bytes:
        """`value` as the table stores it: to weigh it before `put`."""
        return self._adapter.dump_json(value)

    def put(self, key: str, encoded: bytes) -> None:
        """Write a value `encode` made (held while a batch is handled)."""
        if self._stored(key) != encoded:  # an unchanged value is not written again
            self._write(key, encoded)

    def __contains__(self, key: str) -> bool:
        return self._stored(key) is not None

    def pop(self, key: str) -> None:
        """Remove `key` (a tombstone on the changelog; held while a batch is handled)."""
        if self._stored(key) is not None:
            self._write(key, None)

    def _write(self, key: str, value: bytes | None) -> None:
        writes = held.current() if self.holds else None
        if writes is not None:
            writes.write(self, _key(key), value)
        else:
            self.write_now(key, value)

    def write_now(self, key: str, value: bytes | None) -> None:
        """Write `value` at `key` at once, to the store and the changelog (None: delete
        it). Stages write through `put` and `pop`."""
        with self._as_record(key):
            if value is None:
                self.faust.pop(_key(key), None)
            elif self.faust.get(_key(key)) != value:
                self.faust[key] = value
        for projection in self._projections.values():
            projection.dirty.add(key)

    async def _recovered(self) -> None:
        self._recoveries += 1

    def items(self) -> Iterator[tuple[str, V]]:
        """Every entry, decoded (a copy: the table may change while the caller awaits)."""
        for key, stored in list(self.faust.items()):
            if stored is not None:
                yield key, self._adapter.validate_json(stored)

    def project(self, name: str, pick: Callable[[Any], P]) -> list[tuple[str, P]]:
        """`pick(parsed JSON)` of every entry, for scans that read a field or two of many
        entries often (deadlines, the delivery take-up).

        The whole table is read once after each rebalance and each recovery of the table
        (Faust writes what it recovers to the store itself); after that, only the
        entries this table wrote since the last scan of the same `name` are read and
        parsed again. A scan at every tick of the whole table cost a worker with 100,000
        open tasks on RocksDB about a second of CPU per table, and its copy of the
        entries a memory peak of 1.5 GB. The picks are returned as a list: the caller
        may await while it goes through them."""
        stamp = (self._app.consumer_generation_id, self._recoveries)
        found = self._projections.get(name)
        if found is None or found.stamp != stamp:
            picks: dict[str, Any] = {}
            found = Projection(stamp, picks)
            # Registered first: what is written meanwhile is read again at the next scan.
            self._projections[name] = found
            for key, stored in self.faust.items():  # one entry at a time, no await
                if stored is not None:
                    picks[key] = pick(from_json(stored))
        else:
            dirty, found.dirty = found.dirty, set()
            for key in dirty:
                with self._as_record(key):
                    stored = self.faust.get(_key(key))
                if stored is None:
                    found.picks.pop(key, None)
                else:
                    found.picks[key] = pick(from_json(stored))
        return list(found.picks.items())


def changelog(app_id: str, table: str) -> str:
    """The name of a table's changelog topic (Faust's: `<app id>-<table>-changelog`)."""
    return f"{app_id}-{table}-changelog"


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"table keys are str, not {type(key).__name__}")
    return key
