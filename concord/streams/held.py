"""Held writes: a batch's table writes wait until the records the batch sent are durable.

A stage's step sends records (a situation, a task's events, messages, audit entries) and
writes its tables (what it has done: a signal seen, a playbook fired, a task recorded).
Kafka keeps the order of the records of one partition only. The producer sends at most
one batch of each partition per request, so a table write can reach the broker before a
record sent earlier to a busier partition; with several brokers, nothing orders them at
all. A worker that died in between left a table that said "done" and no record of what
was done: after its restart, the replayed signal was skipped as seen, and the tasks of
its situation were never made.

So while a stage handles a batch, its table writes are held (`holding`): the stage's
own reads see them, nothing else does, and nothing goes to the changelog. Once the
batch is handled, `Held.release` waits until every record the batch sent is durable,
then writes them. A worker that dies before that replays the batch against tables
that do not say it was done: it sends the records again, and whoever takes them takes
each once (task ids, message keys and snapshots are idempotent). A worker that dies
after it replays a batch whose records are all in Kafka.

A *marker* table (`Table(..., marker=True)`) says that the other tables hold a record's
work (the signals seen): its writes go last, once the others are durable too, so that
no replay finds the marker without the work.

The delivery stage's table is not held: its record must be durable *before* an attempt
leaves (`concord.agents.deliver`), and its lanes write it outside any batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from concord.streams.patches import handling


class Writable(Protocol):
    """What `Held` needs of a table: write a key now (None: delete it)."""

    marker: bool

    def write_now(self, key: str, value: bytes | None) -> None:
        """Write `value` at `key` at once (to the store and the changelog)."""


@dataclass(frozen=True)
class Write:
    """One held write: its table, key and value (None: deleted), and the record being
    handled when it was made (its partition is the changelog partition)."""

    table: Writable
    key: str
    value: bytes | None
    event: Any


@dataclass(eq=False)
class Held:
    """The records a batch sent (the client's futures) and the table writes it made."""

    sent: list[Awaitable[Any]] = field(default_factory=list)
    writes: dict[tuple[int, str], Write] = field(default_factory=dict)
    open: bool = True

    def lookup(self, table: Writable, key: str) -> tuple[bool, bytes | None]:
        """(True, value) if the batch wrote `key` of `table` (None: deleted), else
        (False, None)."""
        write = self.writes.get((id(table), key))
        return (False, None) if write is None else (True, write.value)

    def write(self, table: Writable, key: str, value: bytes | None) -> None:
        """Hold a write until `release`."""
        from faust.streams import current_event

        self.writes[(id(table), key)] = Write(table, key, value, current_event())

    async def durable(self) -> None:
        """Wait until every record sent inside is in Kafka (raises if one could not be)."""
        self.open = False
        if self.sent:
            await asyncio.gather(*self.sent)

    async def release(self, settled: Callable[[], Awaitable[None]]) -> int:
        """Wait for every record the batch sent, then make its writes: the markers last,
        once `settled()` (which waits until the writes made so far are durable) returns.
        Returns how many writes were made."""
        self.open = False
        if not self.writes:
            return 0
        await self.durable()
        writes = list(self.writes.values())
        work = [w for w in writes if not w.table.marker]
        markers = [w for w in writes if w.table.marker]
        _make(work)
        if markers:
            if work:
                await settled()
            _make(markers)
        return len(writes)


def _make(writes: list[Write]) -> None:
    for write in writes:
        if write.event is None:
            write.table.write_now(write.key, write.value)
            continue
        with handling(write.event):
            write.table.write_now(write.key, write.value)


_HELD: ContextVar[Held | None] = ContextVar("concord_held_writes", default=None)


def current() -> Held | None:
    """The writes held by the batch this task is handling, if any."""
    held = _HELD.get()
    return held if held is not None and held.open else None


def sent(future: Awaitable[Any]) -> None:
    """Note a record the batch being handled sent (a no-op outside a batch)."""
    held = current()
    if held is not None:
        held.sent.append(future)


@contextmanager
def holding() -> Iterator[Held]:
    """Hold the table writes made inside (by this task and those it starts) until the
    caller releases them; writes not released are dropped with the batch."""
    held = Held()
    token = _HELD.set(held)
    try:
        yield held
    finally:
        held.open = False
        _HELD.reset(token)
