"""Erasure and retention (concord.core.erasure): which keys go, when, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from concord.core.erasure import Due, Retention, due, erasure_entry, erasure_of, holders, keys_of
from concord.streams.keys import DataKey
from concord.streams.situations import Situation, SituationState
from tests.unit.factories import make_situation

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = Retention(closed_days=180, unattached_days=30)


def key(kid: str, subject: str, created: datetime = T0) -> DataKey:
    return DataKey(id=kid, subject=subject, wrapped="w", kek="k", created_at=created)


def situation(
    sid: str, signal: str, state: SituationState, updated: datetime, **kw: object
) -> Situation:
    base = make_situation()
    refs = [base.signals[0].model_copy(update={"id": signal})]
    return base.model_copy(
        update={"id": sid, "signals": refs, "state": state, "updated_at": updated, **kw}
    )


def test_data_goes_n_days_after_its_situation_closed_and_not_a_day_before() -> None:
    closed = situation("sit-a", "s1", SituationState.closed, T0)
    keys = [key("k1", "s1"), key("k2", "s1")]  # sealed twice (a replay): both go
    assert due(keys, [closed], T0 + timedelta(days=179, hours=23), POLICY) == []
    [item] = due(keys, [closed], T0 + timedelta(days=180), POLICY)
    assert item.subject == "s1"
    assert item.keys == ("k1", "k2")
    assert item.reason == "situation sit-a closed 2026-01-01 (180 days)"


def test_an_open_situation_keeps_its_data_however_old() -> None:
    for state in (SituationState.open, SituationState.responding, SituationState.monitoring):
        held = situation("sit-a", "s1", state, T0)
        assert due([key("k1", "s1")], [held], T0 + timedelta(days=5000), POLICY) == []


def test_data_never_in_a_situation_goes_m_days_after_it_arrived() -> None:
    keys = [key("k1", "lonely", T0), key("k2", "newer", T0 + timedelta(days=10))]
    [item] = due(keys, [], T0 + timedelta(days=30), POLICY)
    assert item.subject == "lonely"
    assert item.reason == "never part of a situation, received 2026-01-01 (30 days)"
    assert [d.subject for d in due(keys, [], T0 + timedelta(days=40), POLICY)] == [
        "lonely",
        "newer",
    ]


def test_a_merge_moves_the_signal_into_the_situation_that_absorbed_it() -> None:
    merged = situation("sit-a", "s1", SituationState.closed, T0, merged_into="sit-b")
    absorbing = situation("sit-b", "s1", SituationState.responding, T0)
    assert holders([absorbing, merged])["s1"].id == "sit-b"
    assert holders([merged, absorbing])["s1"].id == "sit-b"
    assert due([key("k1", "s1")], [merged, absorbing], T0 + timedelta(days=400), POLICY) == []


def test_erase_on_request_names_every_key_or_says_why_not() -> None:
    keys = {"k1": key("k1", "s1"), "k2": key("k2", "dl-of-s1"), "k3": key("k3", "s1")}
    assert keys_of("s1", keys.values()) == ["k1", "k3"]
    found = erasure_of("s1", keys, [])
    assert not isinstance(found, str)
    assert found.keys == ("k1", "k3")
    assert erasure_of("s9", keys, ["s9"]) == "s9: erased already"
    assert "no personal data is kept" in str(erasure_of("s8", keys, []))


def test_an_erasure_is_audited_the_same_wherever_it_is_made() -> None:
    entry = erasure_entry(Due("s1", ("k1", "k2"), "on request"), "ana", "cli")
    assert (entry.action, entry.subject, entry.actor, entry.via) == (
        "signal.erased",
        "s1",
        "ana",
        "cli",
    )
    assert entry.details == {"reason": "on request", "keys": "2"}
