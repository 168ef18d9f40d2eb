"""The delivery stage's records (concord.agents.ledger): the take-up's look, carrier health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from concord.delivery.ledger import Ledger
from concord.streams.delivery import DeliveryRecord, Receipt
from concord.streams.tables import Shape, Table
from concord.worker.runtime import Flow
from tests.unit.factories import FaustApp

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


def ledger(**states: str) -> Ledger:
    table = Table(FaustApp(), "deliveries", DeliveryRecord, Shape(4))
    for key, state in states.items():
        table[key] = DeliveryRecord(
            key=key,
            kind="task",
            subject=key,
            recipient="police-duty",
            channels=["slack", "email"],
            state=state,
            deadline=T0 + timedelta(hours=1),
            created_at=T0,
            updated_at=T0,
        )
    return Ledger(cast(Flow, None), table)


def test_the_take_up_counts_what_is_ours_not_final_and_not_yet_on_its_way() -> None:
    book = ledger(a="pending", b="retrying", c="delivered", d="failed", e="withdrawn", f="pending")
    book.pending["b"] = ("slack", T0)  # on its way before the rebalance
    ours = {"a", "b", "c", "d", "e"}.__contains__
    assert book.owned_now(ours) == ["a"]
    assert sorted(book.pending) == ["a", "b"]
    assert book.owned_now(ours) == []  # counted at once: a second look takes nothing twice


def test_a_partition_that_moved_away_is_forgotten_unless_the_look_only_adds() -> None:
    book = ledger(a="pending", b="pending")
    assert book.owned_now({"a", "b"}.__contains__) == ["a", "b"]
    assert book.owned_now({"a"}.__contains__, forget=False) == []
    assert sorted(book.pending) == ["a", "b"]  # ownership may read short for a moment
    assert book.owned_now({"a"}.__contains__) == []
    assert sorted(book.pending) == ["a"]  # b's new owner takes it up


def receipt(channel: str, ok: bool, error: str | None = None) -> Receipt:
    return Receipt(
        task_id="t", channel=channel, recipient="r", attempt=1, ok=ok, error=error, at=T0
    )


def test_three_failures_in_a_row_make_a_carrier_degraded_and_one_success_heals_it() -> None:
    book = ledger()
    for _ in range(3):
        book.heard(receipt("slack", ok=False, error="Slack 500"))
    book.heard(receipt("none", ok=False, error="no channel"))
    assert book.degraded(T0) == {"slack": "0 pending, oldest 0 s, 3 failure(s) in a row: Slack 500"}
    book.heard(receipt("slack", ok=True))
    assert book.degraded(T0) == {}
    assert book.health["slack"].last_ok == T0
    assert "none" not in book.health


def test_a_message_pending_for_over_a_minute_degrades_its_carrier() -> None:
    book = ledger()
    book.pending["k"] = ("email", T0)
    assert book.degraded(T0 + timedelta(seconds=59)) == {}
    assert book.degraded(T0 + timedelta(seconds=61)) == {
        "email": "1 pending, oldest 61 s, 0 failure(s) in a row: None"
    }
