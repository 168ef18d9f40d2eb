"""The delivery stage's records: the `deliveries` table (the durable schedule), which
messages this worker has on their way, and how each carrier is doing.

A `DeliveryRecord` per message key. Final records keep no content (nothing will be sent
again). Records on their way are published without content on `concord.delivery-state`
once they were tried, for the board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from concord.streams.delivery import CHANNELS, FINAL, DeliveryRecord, Receipt
from concord.streams.patches import trace
from concord.streams.tables import Table
from concord.worker.metrics import Metrics
from concord.worker.runtime import Flow

#: Carriers whose queue and age are on /metrics: every channel.
CARRIERS = CHANNELS


@dataclass
class CarrierHealth:
    """A carrier's recent trouble, for `/healthz`."""

    failures_in_a_row: int = 0
    last_error: str | None = None
    last_ok: datetime | None = None


@dataclass
class Ledger:
    """The `deliveries` table and what this worker has on its way."""

    flow: Flow
    table: Table[DeliveryRecord]
    #: key -> (the channel it is tried on, when it was posted), for what this worker holds
    pending: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    health: dict[str, CarrierHealth] = field(default_factory=dict)

    def get(self, key: str) -> DeliveryRecord | None:
        """The delivery record of a message key, or None."""
        return self.table.get(key)

    async def save(self, record: DeliveryRecord) -> None:
        """Write the record (table) and publish it without its content (the board)."""
        # A final record keeps no content: nothing will be sent again (and it is a tenth
        # of the size in the table's changelog).
        self.table[record.key] = (
            record.model_copy(update={"outgoing": None}) if record.final else record
        )
        channel = record.current or (record.channels[-1] if record.channels else "none")
        if record.final:
            self.pending.pop(record.key, None)
        else:  # before the await below: a take-up meanwhile must see it on its way
            self.pending[record.key] = (channel, record.created_at)
        if record.total_attempts or record.final:
            # A message on its way for the first time is no news: the board hears of it
            # once it was tried (delivered, or retrying: "delivery delayed").
            await self.flow.topics.delivery_state.send(
                key=record.key, value=record.model_copy(update={"outgoing": None})
            )

    def heard(self, receipt: Receipt) -> None:
        """A carrier's answer to one attempt (for `/healthz`)."""
        if receipt.channel == "none":
            return  # no carrier was asked
        health = self.health.setdefault(receipt.channel, CarrierHealth())
        if receipt.ok:
            health.failures_in_a_row, health.last_ok = 0, receipt.at
        else:
            health.failures_in_a_row += 1
            health.last_error = receipt.error

    def owned_now(self, ours: Callable[[str], bool], forget: bool = True) -> list[str]:
        """The take-up's look, after a rebalance (or the start): the keys of every record
        not final that this worker owns and did not have on its way, now counted as on
        its way. The ones that moved to another worker are forgotten (their new owner
        takes them up) unless not `forget` (the look between rebalances only adds:
        ownership can read empty for a moment)."""
        taken: list[str] = []
        owned: set[str] = set()
        seen = 0
        for key, state in self.table.project("state", _state):
            seen += 1
            if state in FINAL or not ours(key):
                continue
            owned.add(key)
            if key in self.pending:
                continue  # ours before the rebalance too, and on its way
            # Counted before the caller awaits anything: a take-up meanwhile skips it.
            record = self.table.get(key)
            if record is None:
                continue
            self.pending[key] = (record.current or "none", record.created_at)
            taken.append(key)
        for key in [k for k in self.pending if k not in owned and forget]:
            del self.pending[key]
        trace.info(
            "take-up: %d stored, %d ours not final, %d already on their way, %d taken: %s",
            seen,
            len(owned),
            len(owned) - len(taken),
            len(taken),
            ",".join(taken),
        )
        return taken

    def observe(self, metrics: Metrics, now: datetime) -> None:
        """Queue depth and the age of the oldest pending message, per carrier."""
        for channel in CARRIERS:
            mine = [at for ch, at in self.pending.values() if ch == channel]
            metrics.delivery_queue.labels(channel).set(len(mine))
            oldest = (now - min(mine)).total_seconds() if mine else 0.0
            metrics.delivery_oldest.labels(channel).set(oldest)

    def degraded(self, now: datetime) -> dict[str, str]:
        """Carriers in trouble, and why (for `/healthz`)."""
        out: dict[str, str] = {}
        for channel in sorted({ch for ch, _ in self.pending.values()} | set(self.health)):
            mine = [at for ch, at in self.pending.values() if ch == channel]
            oldest = (now - min(mine)).total_seconds() if mine else 0.0
            health = self.health.get(channel, CarrierHealth())
            if health.failures_in_a_row >= 3 or oldest > 60:
                out[channel] = (
                    f"{len(mine)} pending, oldest {oldest:.0f} s, "
                    f"{health.failures_in_a_row} failure(s) in a row: {health.last_error}"
                )
        return out


def _state(stored: Any) -> str | None:
    """A stored delivery record's state (the take-up's projection)."""
    state = stored.get("state")
    return state if isinstance(state, str) else None
