"""Every agent's loop: decode each record, handle it, and dead-letter what cannot be processed.

Faust restarts an agent that raises, but the record that made it raise is acked and
gone. So no agent iterates its stream itself: `consume` takes the records in batches,
decodes each into the topic's model and calls the stage's handler; a record that does
not decode, or whose handling raises, goes to `concord.deadletter` with the stage, the
reason and its original bytes (sealed), is counted on `/metrics` and written to the
audit log, and the stage goes on with the next record. `concord deadletter replay`
re-submits it after a fix.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from concord.core.intake import field_errors
from concord.streams import held
from concord.streams.audit import Stage
from concord.streams.patches import batches, handling, partition_of, trace
from concord.streams.topics import Topic
from concord.worker.runtime import Flow, Where

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: How long a stage handles a batch's records before it lets the rest of the event loop
#: turn (the web server's answers, the timers, the other stages).
HOLD_SECONDS = 0.001

#: How the worker exits when a drill crashes it (`_crash`).
DRILL_EXIT = 86


class Unfit(ValueError):
    """A record a stage turns down for a reason its message says in full: a dead letter
    like any failure, logged in one line (a traceback would say nothing more)."""


def _raw(event: Any) -> bytes:
    value = event.message.value
    if isinstance(value, bytes):
        return value
    return bytes(value or b"")


async def consume_raw(
    flow: Flow,
    stage: Stage,
    stream: Any,
    handle: Callable[[bytes, Any], Awaitable[None]],
) -> None:
    """Run `handle(raw, message)` on each record of `stream`, guarded (see the module).

    Records are taken in batches (`Flow.batching`: as many as have come within a few
    milliseconds, up to a most): each record is handled in turn, as the record being
    handled (`patches.handling`), and the audit entries of the whole batch go in one
    audit record. The batch's table writes are held until every record it sent is
    durable (`streams.held`); then Faust acks the batch's records, and commits their
    offsets only after flushing those writes. So a crash in the middle of a batch, or
    before its writes are durable, replays it against tables that do not say it was
    done: its records are sent again, and every effect is idempotent, nothing is sent
    twice. The agents of one stage take turns, a batch at a time (`Flow.turn`). Once
    the worker begins to stop, no further record is handled (`_stopped`). Once a batch
    has held the event loop for `HOLD_SECONDS`, the loop lets every other task turn
    before the next record."""
    sizes = flow.metrics.stage_batch.labels(stage)
    batching = flow.batching
    async for events in batches(stream, batching.most, batching.within):
        if flow.fault_stall == stage:  # a drill: this stage hangs on its first record
            log.warning("drill: %s stops with a batch of %d record(s) in hand", stage, len(events))
            await asyncio.Event().wait()
        sizes.observe(len(events))
        if trace.isEnabledFor(logging.INFO):
            trace.info("%s: batch %s", stage, ", ".join(map(_place, events)))
        async with flow.turn(stage):
            with held.holding() as writes:
                await _batch(flow, stage, events, handle)
            await writes.release(flow.settled)


async def _batch(
    flow: Flow,
    stage: Stage,
    events: list[Any],
    handle: Callable[[bytes, Any], Awaitable[None]],
) -> None:
    """Handle a batch's records, each guarded, with one audit record for the batch."""
    busy = flow.metrics.stage_busy.labels(stage)
    handled = flow.metrics.stage_records.labels(stage)
    failed: set[int] = set()
    handled_all = False
    try:
        # The batch's audit record is sent inside the try: if it cannot be, the
        # batch's records are dead letters like any other failure.
        async with flow.audit_batch():
            held_since = time.perf_counter()
            for index, event in enumerate(events):
                if flow.stopping():
                    await _stopped(stage)
                if time.perf_counter() - held_since > HOLD_SECONDS:
                    # The web server, the timers and the other stages turn: a batch
                    # handled in one go held the event loop for up to a few hundred
                    # ms under load.
                    await asyncio.sleep(0)
                    held_since = time.perf_counter()
                if await _one(flow, stage, event, handle, busy):
                    handled.inc()
                else:
                    failed.add(id(event))
                if flow.fault_crash == stage and index == 0 and len(events) > 1:
                    _crash(stage)
            handled_all = True
    except Exception as exc:
        if not handled_all:
            # A dead letter could not be written: the batch is never acked, so
            # Faust commits nothing past it and it is read again after a restart.
            raise
        log.exception("%s: the audit record of a batch could not be sent", stage)
        for event in events:
            if id(event) not in failed:
                await _dead(flow, stage, event, exc)


async def _one(
    flow: Flow,
    stage: Stage,
    event: Any,
    handle: Callable[[bytes, Any], Awaitable[None]],
    busy: Any,
) -> bool:
    """Handle one record of a batch; a failure makes it a dead letter (False)."""
    started = time.perf_counter()
    try:
        with handling(event):
            await handle(_raw(event), event.message)
    except Exception as exc:  # a failure of one record must not lose it or stop the stage
        await _dead(flow, stage, event, exc)
        return False
    busy.inc(time.perf_counter() - started)
    return True


async def _dead(flow: Flow, stage: Stage, event: Any, exc: Exception) -> None:
    where = Where.of(event.message)
    if isinstance(exc, Unfit):
        log.error("%s: record %s:%s turned down: %s", stage, where.topic, where.offset, exc)
    else:
        log.error("%s: record %s:%s failed", stage, where.topic, where.offset, exc_info=exc)
    reason = f"{stage} failed: {type(exc).__name__}"
    errors = [{"loc": stage, "msg": str(exc)[:1000] or type(exc).__name__}]
    await flow.deadletter(stage, where, _raw(event), reason, errors)


async def _stopped(stage: Stage) -> None:
    """The worker has begun to stop: the rest of the batch is not handled and nothing of
    it is acked, so it is read again after the restart.

    A record fetched before the stop could otherwise be handled after the last commit
    that flushes what it wrote: its offset committed as the consumer stops, its table
    write lost with the producer's buffer (a task left `pending`, never escalated)."""
    log.info("%s: the worker stops; the rest of the batch is read again after", stage)
    await asyncio.Event().wait()  # until Faust cancels the agent


def _place(event: Any) -> str:
    message = event.message
    return f"{message.topic}:{message.partition}@{message.offset}"


def _crash(stage: Stage) -> None:
    """A drill (`CONCORD_FAULT_CRASH_STAGE`): the worker dies as if killed, one record
    into a batch: nothing is flushed, nothing of the batch is acked."""
    log.warning("drill: the worker dies in the middle of a batch of %s", stage)
    logging.shutdown()
    os._exit(DRILL_EXIT)


async def consume(
    flow: Flow,
    stage: Stage,
    topic: Topic[M],
    stream: Any,
    handle: Callable[[M], Awaitable[None]],
) -> None:
    """`consume_raw` for a typed topic: a record that does not decode is a dead letter
    ("undecodable record", with the fields that failed); `handle` gets the model."""

    async def decoded(raw: bytes, message: Any) -> None:
        try:
            value = topic.decode(raw)
        except (ValidationError, ValueError) as exc:
            errors = field_errors(exc) if isinstance(exc, ValidationError) else []
            await flow.deadletter(stage, Where.of(message), raw, "undecodable record", errors)
            return
        await handle(value)

    await consume_raw(flow, stage, stream, decoded)


def survives(name: str) -> Callable[[Callable[[], Awaitable[None]]], Callable[[], Awaitable[None]]]:
    """A timer body that logs what it raises instead of dying (Faust would stop the timer):
    it runs again at the next tick."""

    def wrap(fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        @functools.wraps(fn)
        async def run() -> None:
            try:
                await fn()
            except Exception:  # a bad table entry must not stop every later deadline
                log.exception("%s failed; it runs again at the next tick", name)

        return run

    return wrap


def every(app: Any, seconds: float, name: str, body: Callable[[], Awaitable[None]]) -> None:
    """Bind `body` as a timer of every worker (each looks at what it holds), guarded by
    `survives`."""
    app.timer(seconds, on_leader=False, name=name)(survives(name)(body))


def owner(app: Any, topic: str, partitions: int) -> Callable[[str], bool]:
    """Whether this worker owns the partition of `topic` (and of the table) a key is in,
    computed as the producer would (`patches.partition_of`): a worker that has just
    started has no metadata for a topic it has not sent to yet, and the records it must
    take up after a crash would be skipped."""

    def ours(key: str) -> bool:
        try:
            assigned = app.assignor.assigned_actives()
        except Exception:  # not assigned yet
            return False
        partition = partition_of(key, partitions)
        return partition in {tp.partition for tp in assigned if tp.topic == topic}

    return ours
