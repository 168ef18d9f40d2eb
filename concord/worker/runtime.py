"""What every stage of a running worker shares: the typed topics and the flow's own
effects (audit, dead letters, delivery requests, durability), and the worker's health.

Agents and web views receive a `Flow` and the few other things they need (the
directory, the live playbooks, ...) from `concord.worker.app.create_app`; none of them imports
`concord.app`. `Flow` holds no Faust app: whoever binds agents and pages gets the app
itself, and nothing else reaches Faust through here but the topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core import intake
from concord.core.erasure import Due, shredding
from concord.core.evidence import Kept
from concord.privacy.blobs import Blobs
from concord.privacy.keys import Sealer
from concord.streams.audit import AuditEntry, AuditRecord, DeadLetter, Stage
from concord.streams.delivery import DeliveryRequest, Outgoing
from concord.streams.patches import Writes
from concord.streams.signals import SignalIn
from concord.streams.topics import Topics
from concord.streams.triage import TriageItem
from concord.worker import acks
from concord.worker.metrics import Metrics
from concord.worker.observer import Observer


@dataclass
class Health:
    """What `/healthz` reports beyond the broker: whether the worker took its partitions,
    which stages failed on records, which carriers are in trouble."""

    ready: bool = False
    #: stage -> (records it failed on since start, when it last failed)
    failures: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    #: carrier -> why it is degraded; set by the delivery stage
    degraded: Callable[[datetime], dict[str, str]] = lambda now: {}
    #: partition -> seconds with records waiting and no progress; set by the watchdog
    stalled: dict[str, float] = field(default_factory=dict)
    #: whether the broker answers (the watchdog asks every few seconds)
    broker: bool = True

    def failed(self, stage: Stage, at: datetime) -> None:
        """Count a record a stage failed on, with when."""
        self.failures[stage] = (self.failures.get(stage, (0, at))[0] + 1, at)


class Flusher:
    """One producer flush for every caller waiting at the same time.

    `wait()` returns after a flush that started after the call: a flush covers the writes
    made before it began, so a caller whose writes came during a flush waits for the next.
    `covered(mark)` returns at once when the table writes made before `mark()` are durable
    already: any flush since made them so (with `writes`, the producer's counts).
    """

    def __init__(
        self, flush: Callable[[], Awaitable[None]] | None, writes: Writes | None = None
    ) -> None:
        self.flush = flush
        self.writes = writes
        self._next: asyncio.Future[None] | None = None
        self._running: asyncio.Task[None] | None = None

    def mark(self) -> int | None:
        """Where the table writes made so far end (None: not counted)."""
        return None if self.writes is None else self.writes.put

    async def covered(self, mark: int | None) -> None:
        """Wait until the table writes made before `mark` are durable: at once when a
        flush since made them so, else for a flush that starts after this call."""
        if mark is not None and self.writes is not None and self.writes.durable >= mark:
            return
        await self.wait()

    async def wait(self) -> None:
        """Wait for a flush that started after this call."""
        if self.flush is None:
            return
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._loop())
        await asyncio.shield(waiter)

    async def _loop(self) -> None:
        assert self.flush is not None
        while self._next is not None:
            waiter, self._next = self._next, None
            try:
                await self.flush()
            except Exception as exc:  # every waiter hears it
                waiter.set_exception(exc)
            else:
                waiter.set_result(None)


@dataclass(frozen=True)
class Batching:
    """How a stage takes its records: a batch starts with its first record and takes
    what comes within `within` more seconds, up to `most` (`CONCORD_BATCH_MOST`,
    `CONCORD_BATCH_WITHIN_MS`)."""

    most: int = 256
    within: float = 0.002


class AuditBatch:
    """The audit entries made while one batch of records is handled, sent as one record."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        #: closed once sent: a task started inside (a delivery lane's job) that audits
        #: later sends its own record instead of adding to one already gone
        self.open = True


#: The batch of the record the current task is handling (none: each entry is sent alone).
_BATCH: ContextVar[AuditBatch | None] = ContextVar("concord_audit_batch", default=None)


def triage_subject(signal_id: str) -> str:
    """Where the files of a signal waiting in triage are kept (moved once placed)."""
    return f"triage:{signal_id}"


@dataclass
class Flow:
    """The topics and the effects every stage may have besides its own topic's output."""

    topics: Topics
    sealer: Sealer
    metrics: Metrics
    observer: Observer
    health: Health = field(default_factory=Health)
    flusher: Flusher = field(default_factory=lambda: Flusher(None))
    #: a stage that stops handling records (`CONCORD_FAULT_STALL_STAGE`): a drill of the
    #: watchdog, never set in production
    fault_stall: str = ""
    #: a stage in the middle of whose batch the worker dies (`CONCORD_FAULT_CRASH_STAGE`):
    #: a drill, never set in production
    fault_crash: str = ""
    #: how each stage takes its records
    batching: Batching = field(default_factory=Batching)
    #: whether the worker has begun to stop (Faust's app was told to, or crashed: mode then
    #: stops the worker): a stage takes no more records
    stopping: Callable[[], bool] = lambda: False
    #: the words of the directory's names (`core.intake.plain_words`), worked out once
    words: frozenset[str] = frozenset()
    #: the evidence store (files given with reports, sealed); None: files are refused
    blobs: Blobs | None = None
    #: stage -> the turn its agents take, one batch at a time (`turn`)
    turns: dict[str, asyncio.Lock] = field(default_factory=dict)
    #: how long a request waits for the broker's ack (`CONCORD_BROKER_ACK_SECONDS`)
    ack_seconds: float = 10.0

    def turn(self, stage: str) -> asyncio.Lock:
        """The lock a stage's agents take for a batch, from its first record until its
        held writes are made (`streams.held`): a stage with several agents (correlate:
        signals and commands) reads and writes its tables one batch at a time, as when
        every write was made at once."""
        return self.turns.setdefault(stage, asyncio.Lock())

    async def settled(self) -> None:
        """Wait until the table writes made so far are durable."""
        await self.flusher.covered(self.flusher.mark())

    async def audit(
        self, actor: str, action: str, subject: str, via: str | None = None, **details: str
    ) -> None:
        """Record a transition on `concord.audit`: at once, or with the other entries of
        the record being handled (`audit_batch`)."""
        entry = AuditEntry(actor=actor, action=action, subject=subject, via=via, details=details)
        batch = _BATCH.get()
        if batch is not None and batch.open:
            batch.entries.append(entry)
            return
        await self.topics.audit.send(key=subject, value=AuditRecord(entries=[entry]))

    async def audit_view(
        self, actor: str, action: str, subject: str, via: str | None = None, **details: str
    ) -> None:
        """Record a view of personal data on `concord.audit`, alone, and wait for the
        broker's ack: the data is shown only once the audit holds who saw it (a worker
        that dies just after answering must not leave a view unrecorded). Raises when the
        broker does not take the entry in time (`Unavailable`), and then nothing is shown."""
        entry = AuditEntry(actor=actor, action=action, subject=subject, via=via, details=details)
        await self.acked(self.topics.audit.send(key=subject, value=AuditRecord(entries=[entry])))

    async def acked(self, *sending: Awaitable[Awaitable[Any]]) -> None:
        """Send, and wait until the broker holds every record, for a request that answers
        only then; `Unavailable` when it does not within `ack_seconds` (`worker.acks`)."""
        await acks.acked(self.ack_seconds, *sending)

    @contextlib.asynccontextmanager
    async def audit_batch(self) -> AsyncIterator[None]:
        """The audit entries made inside (by this task) go in one record, sent when the
        block ends (also when it raises); entries made after are sent alone again."""
        batch = AuditBatch()
        token = _BATCH.set(batch)
        try:
            yield
        finally:
            _BATCH.reset(token)
            batch.open = False
            if batch.entries:
                record = AuditRecord(entries=batch.entries)
                await self.topics.audit.send(key=record.key, value=record)

    async def post(self, outgoing: Outgoing) -> None:
        """Hand a message to the delivery stage (`concord.outgoing`); returns once it is
        buffered: the caller never waits on a carrier."""
        request = DeliveryRequest(key=outgoing.key, outgoing=outgoing)
        await self.topics.outgoing.send(key=outgoing.key, value=request)

    async def withdraw(self, key: str, reason: str) -> None:
        """The message with this key is moot: not delivered yet, it never will be."""
        request = DeliveryRequest(key=key, action="withdraw", reason=reason)
        await self.topics.outgoing.send(key=key, value=request)

    async def durable(self, mark: int | None = None) -> None:
        """Wait until the writes made so far (table changelogs included) are in Kafka;
        with a `mark` (`flusher.mark()` just after a table write), only until the table
        writes made before it are.

        Callers that wait at the same time share one flush (the delivery stage has many
        attempts in flight, each waiting for its own record to be durable)."""
        await self.flusher.covered(mark)

    async def admit(
        self,
        directory: Directory,
        signal_in: SignalIn,
        files: Sequence[Kept] = (),
        referred_to: str | None = None,
    ) -> Any:
        """A valid signal, sealed, on `concord.signals`; returns the broker's future.

        Keyed by correlation zone: neighbouring areas meet in one partition. The intake
        stage admits what it validated from `concord.signals.in`, the HTTP API what it
        validated itself (one hop fewer). Files given with a report are sealed under the
        signal's key and stored first: a signal never names a blob that is not there."""
        admitted = intake.admission(
            signal_in, self.sealer, utcnow(), self.words, files, referred_to
        )
        signal, key = admitted.signal, admitted.key
        await self.keep(signal.id, admitted.blobs)
        # The key first: whoever reads the signal can find it.
        await self.topics.keys.send(key=key.id, value=key)
        future = await self.topics.signals.send(key=directory.zone(signal.area), value=signal)
        self.metrics.signals.labels("accepted").inc()
        return future

    async def keep(self, subject: str, blobs: list[tuple[str, bytes]]) -> None:
        """Put sealed files in the evidence store before anything names them; without a
        store, files are refused rather than named and lost."""
        if blobs and self.blobs is None:
            raise RuntimeError("no evidence store: files cannot be kept")
        with acks.paused():  # a request's ack deadline is the broker's, not the store's
            for blob_id, data in blobs:
                assert self.blobs is not None
                await asyncio.to_thread(self.blobs.put, subject, blob_id, data)

    async def triage(
        self,
        signal: dict[str, Any],
        origin: str,
        reason: str,
        place: str,
        files: Sequence[Kept] = (),
    ) -> Any:
        """A signal that cannot be placed (its area matches none), on `concord.triage`
        for a coordinator: sealed like any signal (its key first), never dropped; returns
        the broker's future. Files given with it wait in the evidence store under
        `triage:<id>`, sealed under the same key (`triage_subject`); placing it moves them
        to the signal."""
        subject = str(signal["id"])
        refs = [f.ref() for f in files]
        waiting = {**signal, "evidence": [r.model_dump() for r in refs]}
        plain = [json.dumps(waiting).encode(), *(f.data for f in files)]
        (sealed, *blobs), key = self.sealer.seal_many(subject, plain)
        await self.keep(
            triage_subject(subject), [(r.id, b.encode()) for r, b in zip(refs, blobs, strict=True)]
        )
        await self.topics.keys.send(key=key.id, value=key)
        item = TriageItem(
            id=subject,
            origin=origin,
            source=str(signal.get("source", {}).get("name", "")),
            reason=reason,
            place=place,
            kind=signal["kind"],
            category=signal["category"],
            severity=signal["severity"],
            occurred_at=signal["occurred_at"],
            exercise=bool(signal.get("exercise")),
            sealed=sealed,
        )
        return await self.topics.triage.send(key=item.id, value=item)

    async def erase(self, due: Due, actor: str, via: str) -> None:
        """Tombstone a subject's data keys on `concord.keys` and audit the erasure: the
        sealed copies everywhere become unreadable (see `concord.core.erasure`)."""
        writes = shredding(due, actor, via)
        for key_id in writes.keys:
            await self.topics.keys.tombstone(key_id)
        if self.blobs is not None:  # unreadable already (their key is gone): now gone too
            await asyncio.to_thread(self.blobs.delete, writes.subject)
        await self.topics.audit.send(key=writes.subject, value=AuditRecord(entries=[writes.entry]))

    async def deadletter(
        self,
        stage: Stage,
        at: Where,
        raw: bytes,
        reason: str,
        errors: list[dict[str, str]],
        *,
        failure: bool = True,
        audited: bool = True,
    ) -> DeadLetter:
        """Put a record a stage could not process on `concord.deadletter` (sealed: raw
        reports may name victims), count it and audit it. Nothing is dropped.

        `failure`: the stage failed on it (a bug, a poison record: `/healthz` says so),
        rather than refusing a producer's invalid input. `audited`: False when the caller
        writes an audit entry of its own that says more."""
        sealed = self.sealer.seal(intake.subject_of(raw, at.label), raw, intake.contacts_of(raw))
        await self.topics.keys.send(key=sealed.key.id, value=sealed.key)
        dead = DeadLetter(
            reason=reason,
            errors=errors,
            original=sealed.value,
            original_size=len(raw),
            topic=at.topic,
            partition=at.partition,
            offset=at.offset,
            stage=stage,
            key=at.key,
        )
        await self.topics.deadletter.send(key=at.label, value=dead)
        self.metrics.deadletters.labels(reason).inc()
        if failure:
            self.metrics.stage_failures.labels(stage).inc()
            self.health.failed(stage, dead.at)
        self.observer.deadletter(dead)
        if audited:
            await self.audit("concord", "record.deadlettered", at.label, stage=stage, reason=reason)
        return dead


@dataclass(frozen=True)
class Where:
    """Where a dead record came from: a topic's record, or (offset None) a value a stage
    made from one (the situation a playbook failed on)."""

    topic: str
    key: str | None
    partition: int | None = None
    offset: int | None = None

    @property
    def label(self) -> str:
        """Where the record was, for logs and audit entries (`topic:partition:offset`)."""
        if self.offset is None:
            return self.key or self.topic
        return f"{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def of(cls, message: Any) -> Where:
        """The place of a Faust message."""
        key = message.key
        if isinstance(key, bytes):
            key = key.decode("utf-8", "replace")
        return cls(
            message.topic, None if key is None else str(key), message.partition, message.offset
        )
