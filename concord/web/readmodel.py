"""The board's read model: latest situations, tasks, reviews and API tokens, on every worker.

It also keeps, per signal id, the *sealed* personal data of the signals that name
persons (ciphertext only: the task page opens it for a viewer who may see it), the live
data keys (`concord.keys`: a tombstone is an erasure) and which signals were erased.

Faust's GlobalTable did not replicate writes between running workers here, so each web
process tails the compacted snapshot topics itself: an aiokafka consumer with no group,
all partitions, from the beginning, latest value per key wins. Tasks are read from the
track stage's table changelog (`<app id>-tasks-changelog`), which holds every change of
every task already: a snapshot topic beside it would be the same facts written twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from concord.config.settings import Settings
from concord.core import reports
from concord.core.erasure import ERASED, holders
from concord.streams import topics as t
from concord.streams.access import ApiToken, SessionMark
from concord.streams.audit import AuditEntry, AuditRecord
from concord.streams.delivery import DeliveryRecord, task_message_key
from concord.streams.keys import DataKey
from concord.streams.patches import short_polls
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import Signal
from concord.streams.situations import Situation
from concord.streams.tables import changelog
from concord.streams.tasks import TASKS_TABLE, Task, TrackRecord
from concord.streams.triage import TriageItem
from concord.web.audittail import AuditTail

log = logging.getLogger(__name__)

_TAILED = (
    t.AUDIT,
    t.SITUATIONS,
    t.TOKENS,
    t.REVIEWS,
    t.SIGNALS,
    t.SESSIONS,
    t.DELIVERY_STATE,
    t.KEYS,
    t.TRIAGE,
)


M = TypeVar("M", bound=BaseModel)


#: Raw deflate (no header) with a 4 KB window: the records are a few hundred bytes to a
#: few KB. zlib's default window and memory level cost some 55 µs a record to set up, on
#: this 2-core machine, the compression itself a few; these cost 6.5 µs for the same size.
WINDOW_BITS = -12
MEMORY_LEVEL = 4


def pack(value: bytes) -> bytes:
    """`value` compressed as the read model keeps it (zlib's fastest level: JSON of a few
    hundred bytes to a few KB comes to about a quarter to a half)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL)
    return packer.compress(value) + packer.flush()


class Latest(Mapping[str, M]):
    """The latest value per key of a compacted topic, decoded when first read.

    Every worker tails every snapshot; most are never read by this worker's web server
    before the next snapshot of the same key replaces them, so they are kept as bytes,
    compressed (see `pack`), and validated only when a page or the API asks.
    The latest `CACHED` values read one by one stay decoded; a scan of every value (the
    retention check, a board of every situation) uses what is decoded and keeps nothing
    more: it would otherwise keep every value decoded, several times the size of its
    bytes.
    """

    CACHED = 2_000

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._raw: dict[str, bytes] = {}
        self._decoded: dict[str, M] = {}

    def put(self, key: str, value: bytes | None) -> None:
        """Apply one record of a compacted topic (None: a tombstone)."""
        self._decoded.pop(key, None)
        if value is None:
            self._raw.pop(key, None)
        else:
            self._raw[key] = pack(value)

    def __getitem__(self, key: str) -> M:
        found = self._decoded.get(key)
        if found is None:
            found = self._decode(key)
            if len(self._decoded) >= self.CACHED:
                del self._decoded[next(iter(self._decoded))]  # the oldest read
            self._decoded[key] = found
        return found

    def raw(self, key: str) -> bytes:
        """The value of `key` as the topic carried it (KeyError when there is none)."""
        return zlib.decompress(self._raw[key], WINDOW_BITS)

    def _decode(self, key: str) -> M:
        try:
            return self.model.model_validate_json(self.raw(key))
        except ValidationError as exc:
            log.warning("read model: unreadable %s record, key %s", self.model.__name__, key)
            raise KeyError(key) from exc

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)

    def values(self) -> list[M]:  # type: ignore[override]
        """Every readable value (an unreadable one is logged and left out)."""
        out = []
        for key in list(self._raw):
            try:
                out.append(self._decoded.get(key) or self._decode(key))
            except KeyError:
                continue
        return out


class Tasks(Latest[Task]):
    """The latest task per id, from the `tasks` table's changelog: each value is the
    track stage's `TrackRecord`, its task decoded when read. A record that is only a
    stub (news of a task before it was created) is no task yet."""

    #: How a stub's bytes begin (pydantic writes `task`, the first field, first).
    STUB = b'{"task":null'

    def __init__(self) -> None:
        super().__init__(Task)

    def put(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record (a stub, like a tombstone, is no task)."""
        super().put(key, None if value is not None and value.startswith(self.STUB) else value)

    def _decode(self, key: str) -> Task:
        try:
            task = TrackRecord.model_validate_json(self.raw(key)).task
        except ValidationError as exc:
            log.warning("read model: unreadable task record, key %s", key)
            raise KeyError(key) from exc
        if task is None:
            raise KeyError(key)
        return task


#: How many audit entries a worker keeps in memory for `/audit` and the indicators (the
#: whole log stays on `concord.audit`).
AUDIT_KEPT = 100_000
#: What the board is told about: (what changed, its key).
Change = tuple[str, str]
#: The topics whose changes reach the board's live stream.
_LIVE = {
    t.SITUATIONS.name: "situation",
    t.REVIEWS.name: "review",
    t.DELIVERY_STATE.name: "delivery",
    t.SESSIONS.name: "session",  # a sign-out ends that session's streams
}


class ReadModel:
    """The latest situations, tasks, reviews, tokens, sign-in marks and deliveries; the
    recent audit log; the receipts of public reports; and the board's listeners."""

    def __init__(self, app_id: str = "concord") -> None:
        #: the topic tasks are read from (`Tasks`)
        self.tasks_topic = changelog(app_id, TASKS_TABLE)
        self.situations: Latest[Situation] = Latest(Situation)
        self.tasks: Latest[Task] = Tasks()
        self.tokens: Latest[ApiToken] = Latest(ApiToken)
        self.reviews: Latest[ReviewRecord] = Latest(ReviewRecord)
        self.sealed: dict[str, str] = {}  # signal id -> what its people wrote, sealed
        self.keys: Latest[DataKey] = Latest(DataKey)  # key id -> wrapped data key
        self.erased: dict[str, AuditEntry] = {}  # signal id -> its erasure
        self.marks: Latest[SessionMark] = Latest(SessionMark)  # sign-outs, used links
        self.deliveries: Latest[DeliveryRecord] = Latest(DeliveryRecord)  # by message key
        self.triage: Latest[TriageItem] = Latest(TriageItem)  # signals waiting to be placed
        self.audit = AuditTail(AUDIT_KEPT)
        self.reports: set[str] = set()  # signal ids of public reports seen on concord.signals
        #: signal id -> what travels in clear of a signal that gave files, or was referred
        #: (the task page's attachments, a competent body's referral page)
        self.noted: dict[str, Signal] = {}
        self.listeners: set[asyncio.Queue[Change]] = set()
        self.running = False
        #: read every topic up to where it ended when the tail started (retention waits
        #: for it: a situation not read yet must not look like none)
        self.caught_up = False
        self._live = {**_LIVE, self.tasks_topic: "task"}
        self._by_topic: dict[str, Latest[Any]] = {
            t.SITUATIONS.name: self.situations,
            self.tasks_topic: self.tasks,
            t.TOKENS.name: self.tokens,
            t.REVIEWS.name: self.reviews,
            t.SESSIONS.name: self.marks,
            t.DELIVERY_STATE.name: self.deliveries,
            t.KEYS.name: self.keys,
            t.TRIAGE.name: self.triage,
        }

    def apply(self, topic: str, key: str, value: bytes | None) -> None:
        """Apply one record (a tombstone deletes)."""
        if topic == t.SIGNALS.name:
            self._signal(key, value)
            return
        if topic == t.AUDIT.name:
            self._audit(value)
            return
        if topic == self.tasks_topic:
            key = table_key(key)
        target = self._by_topic.get(topic)
        if target is not None:
            target.put(key, value)
            self._tell(self._live.get(topic), key)

    def listen(self) -> asyncio.Queue[Change]:
        """A queue that receives every change the board shows (`unlisten` it after)."""
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=1000)
        self.listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[Change]) -> None:
        """Stop sending changes to a board stream's queue."""
        self.listeners.discard(queue)

    def _tell(self, kind: str | None, key: str) -> None:
        if kind is None or not self.listeners:
            return
        for queue in list(self.listeners):
            if not queue.full():  # a stalled listener misses changes; it reloads anyway
                queue.put_nowait((kind, key))

    def _audit(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            record = AuditRecord.model_validate_json(value)
        except ValidationError:
            log.warning("read model: unreadable audit record")
            return
        for entry in record.entries:
            self.audit.append(entry)
            if entry.action == ERASED:
                self.erased[entry.subject] = entry

    def _signal(self, key: str, value: bytes | None) -> None:
        if value is None:
            return
        try:
            signal = Signal.model_validate_json(value)
        except ValidationError:
            log.warning("read model: unreadable signal record")
            return
        if signal.sealed:  # a signal from before every signal was sealed may have none
            self.sealed[signal.id] = signal.sealed
        if signal.id.startswith(reports.PREFIX):
            self.reports.add(signal.id)
        if signal.evidence or signal.referred_to or signal.wants == "register":
            self.noted[signal.id] = signal

    def situation_of(self, signal_id: str) -> Situation | None:
        """The situation a signal is in now: a merge moves the signal into the absorbing
        situation, so the one not merged into another wins."""
        return holders(self.situations.values()).get(signal_id)

    def mark(self, mark: SessionMark) -> None:
        """Know a sign-in fact at once (the topic brings it to the other workers)."""
        self.marks.put(mark.id, mark.model_dump_json().encode())
        self._tell("session", mark.id)

    def revoked(self, session_id: str) -> bool:
        """Whether a session was signed out (on any worker)."""
        found = self.marks.get(session_id)
        return found is not None and found.kind == "revoked"

    def link_used(self, nonce: str) -> bool:
        """Whether a one-time sign-in link was used already."""
        found = self.marks.get(nonce)
        return found is not None and found.kind == "link_used"

    def delivery_of(self, task: Task) -> DeliveryRecord | None:
        """The delivery of the message that gave the task to its current assignee."""
        if not task.assignee:
            return None
        return self.deliveries.get(task_message_key(task.id, task.assignee))

    def tasks_of(self, situation_id: str) -> list[Task]:
        """The tasks of a situation, in creation order."""
        return sorted(
            (x for x in self.tasks.values() if x.situation_id == situation_id),
            key=lambda x: (x.created_at, x.id),
        )


def table_key(key: str) -> str:
    """A table changelog's key as the table knows it: Faust writes `str` keys of a table
    as JSON (`"t1"`)."""
    try:
        found = from_json(key)
    except ValueError:
        return key
    return found if isinstance(found, str) else key


async def _tail(settings: Settings, readmodel: ReadModel) -> None:
    consumer = short_polls(
        AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        ),
        settings.fetch_wait_ms,
    )
    await consumer.start()
    try:
        parts: list[TopicPartition] = []
        names = [spec.name for spec in _TAILED] + [readmodel.tasks_topic]
        while not parts:
            for name in names:
                found = consumer.partitions_for_topic(name)
                if not found:
                    await consumer.force_metadata_update()
                    found = consumer.partitions_for_topic(name)
                parts.extend(TopicPartition(name, p) for p in sorted(found or ()))
            if len({tp.topic for tp in parts}) < len(names):
                parts = []
                await asyncio.sleep(0.5)  # topics not created yet: poll metadata
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        readmodel.running = True
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for tp, records in batches.items():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    readmodel.apply(tp.topic, key, record.value)
            if ends:  # until every partition has been read to where it ended at the start
                ends = {tp: end for tp, end in ends.items() if await consumer.position(tp) < end}
                readmodel.caught_up = not ends
    finally:
        readmodel.running = readmodel.caught_up = False
        await consumer.stop()


async def tail(settings: Settings, readmodel: ReadModel) -> None:
    """Keep the read model up to date for as long as the worker runs."""
    while True:
        try:
            await _tail(settings, readmodel)
        except asyncio.CancelledError:
            raise
        except Exception:  # the broker went away: retry, the board must come back
            log.exception("read model tail failed; retrying")
            await asyncio.sleep(2)


def register(app: Any, settings: Settings) -> ReadModel:
    """A read model, tailing from when the app starts."""
    model = ReadModel(settings.app_id)
    app.task(functools.partial(tail, settings, model))
    return model
