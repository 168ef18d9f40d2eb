"""The board's read model: latest situations, tasks, reviews and API tokens, on every worker.

It also keeps, per signal id, the *sealed* personal data of the signals that name
persons (ciphertext only: the task page opens it for a viewer who may see it).

Faust's GlobalTable did not replicate writes between running workers here, so each web
process tails the compacted snapshot topics itself: an aiokafka consumer with no group,
all partitions, from the beginning, latest value per key wins.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ValidationError

from concord.streams import topics as t
from concord.streams.delivery import DeliveryRecord
from concord.streams.models import ApiToken, SessionMark, Signal, Situation, Task
from concord.streams.reviews import ReviewRecord

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

_TAILED = (
    t.SITUATIONS,
    t.TASK_STATE,
    t.TOKENS,
    t.REVIEWS,
    t.SIGNALS,
    t.SESSIONS,
    t.DELIVERY_STATE,
)


class ReadModel:
    """Dicts kept current from the snapshot topics."""

    def __init__(self) -> None:
        self.situations: dict[str, Situation] = {}
        self.tasks: dict[str, Task] = {}
        self.tokens: dict[str, ApiToken] = {}
        self.reviews: dict[str, ReviewRecord] = {}
        self.sealed: dict[str, str] = {}  # signal id -> sealed persons and summary
        self.marks: dict[str, SessionMark] = {}  # signed-out sessions, used sign-in links
        self.deliveries: dict[str, DeliveryRecord] = {}  # message key -> its delivery
        self.running = False

    def apply(self, topic: str, key: str, value: bytes | None) -> None:
        """Apply one record (a tombstone deletes)."""
        if topic == t.SIGNALS.name:
            self._signal(value)
            return
        targets: dict[str, tuple[dict[str, Any], type[BaseModel]]] = {
            t.SITUATIONS.name: (self.situations, Situation),
            t.TASK_STATE.name: (self.tasks, Task),
            t.TOKENS.name: (self.tokens, ApiToken),
            t.REVIEWS.name: (self.reviews, ReviewRecord),
            t.SESSIONS.name: (self.marks, SessionMark),
            t.DELIVERY_STATE.name: (self.deliveries, DeliveryRecord),
        }
        if topic not in targets:
            return
        target, model = targets[topic]
        if value is None:
            target.pop(key, None)
            return
        try:
            target[key] = model.model_validate_json(value)
        except ValidationError:
            log.warning("read model: unreadable record on %s key %s", topic, key)

    def _signal(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            signal = Signal.model_validate_json(value)
        except ValidationError:
            log.warning("read model: unreadable signal record")
            return
        if signal.persons_sealed:
            self.sealed[signal.id] = signal.persons_sealed

    def mark(self, mark: SessionMark) -> None:
        """Know a sign-in fact at once (the topic brings it to the other workers)."""
        self.marks[mark.id] = mark

    def revoked(self, session_id: str) -> bool:
        found = self.marks.get(session_id)
        return found is not None and found.kind == "revoked"

    def link_used(self, nonce: str) -> bool:
        found = self.marks.get(nonce)
        return found is not None and found.kind == "link_used"

    def delivery_of(self, task: Task) -> DeliveryRecord | None:
        """The delivery of the message that gave the task to its current assignee."""
        if not task.assignee:
            return None
        return self.deliveries.get(f"{task.id}.{task.assignee}")

    def tasks_of(self, situation_id: str) -> list[Task]:
        return sorted(
            (x for x in self.tasks.values() if x.situation_id == situation_id),
            key=lambda x: (x.created_at, x.id),
        )


async def _tail(c: Concord, view: ReadModel) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=c.settings.bootstrap_servers(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=c.settings.fetch_wait_ms,  # see concord.app.fetch_wait
    )
    await consumer.start()
    try:
        parts: list[TopicPartition] = []
        while not parts:
            for spec in _TAILED:
                found = consumer.partitions_for_topic(spec.name)
                if not found:
                    await consumer.force_metadata_update()
                    found = consumer.partitions_for_topic(spec.name)
                parts.extend(TopicPartition(spec.name, p) for p in sorted(found or ()))
            if len(parts) < len(_TAILED):
                parts = []
                await asyncio.sleep(0.5)  # topics not created yet: poll metadata
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        view.running = True
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for tp, records in batches.items():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    view.apply(tp.topic, key, record.value)
    finally:
        view.running = False
        await consumer.stop()


def register(c: Concord) -> ReadModel:
    """Start tailing when the app starts."""
    view = ReadModel()

    @c.app.task
    async def tail_read_model() -> None:
        while True:
            try:
                await _tail(c, view)
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker went away: retry, the board must come back
                log.exception("read model tail failed; retrying")
                await asyncio.sleep(2)

    return view
