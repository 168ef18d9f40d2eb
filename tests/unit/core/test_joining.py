"""Signals that join a situation under review: the panel is told at most once per
interval, and the versions it was not told of fold into one (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from concord.agents.gate import _waiting_until
from concord.core.gate import handle
from concord.core.gate_effects import Effect, Notify
from concord.streams.reviews import ReviewEvent, ReviewRecord
from concord.streams.votes import Decision, Vote
from tests.unit.core.reviewing import PANEL, T0

INTERVAL = timedelta(minutes=5)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def join(record: ReviewRecord, signal_id: str, at: datetime) -> tuple[ReviewRecord, list[Effect]]:
    """`signal_id` joins the situation under review at `at`."""
    situation = record.situation
    joined = situation.signals[0].model_copy(update={"id": signal_id, "area": "south"})
    now = situation.model_copy(
        update={"signals": [*situation.signals, joined], "last_signal": signal_id}
    )
    event = ReviewEvent(situation_id=situation.id, kind="joined", situation=now)
    after, effects = handle(record, event, PANEL, at, interval=INTERVAL)
    assert after is not None
    return after, effects


def tick(record: ReviewRecord, deadline: datetime) -> tuple[ReviewRecord, list[Effect]]:
    event = ReviewEvent(situation_id=record.situation_id, kind="tick", deadline=deadline)
    after, effects = handle(record, event, PANEL, deadline, interval=INTERVAL)
    assert after is not None
    return after, effects


def ana_approves_v2(record: ReviewRecord) -> ReviewRecord:
    """Ana reads version 2 on the review page before the panel is told, and approves it."""
    approve = Vote(member="ana", decision=Decision.approve, version=2, at=minutes(2))
    event = ReviewEvent(situation_id=record.situation_id, kind="vote", vote=approve)
    voted, _ = handle(record, event, PANEL, minutes(2), interval=INTERVAL)
    assert voted is not None
    return voted


def joined_ids(record: ReviewRecord) -> list[str]:
    return [c.split()[1] for c in record.current.changes]


def test_a_burst_of_joins_is_one_version_and_one_notice_per_interval(
    opened: ReviewRecord,
) -> None:
    assert (opened.told, opened.told_at, opened.tell_at) == (1, T0, None)
    record, effects = join(opened, "s2", minutes(1))
    assert (record.version, effects, record.tell_at) == (2, [], minutes(5))
    # Two hundred more reports of the same incident within the interval: the same
    # version takes them in, nobody is told yet, and the record keeps two versions.
    for i in range(3, 203):
        record, effects = join(record, f"s{i}", minutes(1 + i / 100))
        assert effects == []
    assert [v.version for v in record.versions] == [1, 2]
    assert joined_ids(record) == [f"s{i}" for i in range(2, 203)]
    assert record.told == 1
    # The interval has passed: the panel hears of version 2, once.
    record, effects = tick(record, minutes(5))
    assert effects == [Notify("amended", 2)]
    assert (record.told, record.told_at, record.tell_at) == (2, minutes(5), None)
    assert tick(record, minutes(5)) == (record, [])  # a repeated tick: nothing
    # The next join makes version 3, held until five minutes after the last notice.
    record, effects = join(record, "s203", minutes(6))
    assert (record.version, effects, record.tell_at) == (3, [], minutes(10))
    assert joined_ids(record) == ["s203"]


def test_a_join_long_after_the_last_notice_is_told_at_once(opened: ReviewRecord) -> None:
    record, effects = join(opened, "s2", minutes(5))  # exactly the interval after opening
    assert effects == [Notify("amended", 2)]
    assert (record.told, record.told_at, record.tell_at) == (2, minutes(5), None)
    record, effects = join(record, "s3", minutes(30))
    assert effects == [Notify("amended", 3)]
    assert record.version == 3


def test_the_others_are_told_of_a_held_version_a_member_voted_on(opened: ReviewRecord) -> None:
    record, _ = join(opened, "s2", minutes(1))
    voted = ana_approves_v2(record)
    after, effects = tick(voted, minutes(5))
    assert effects == [Notify("amended", 2)]  # Koen and Lea have not seen it
    assert (after.told, after.tell_at) == (2, None)


def test_a_version_a_member_voted_on_is_never_folded(opened: ReviewRecord) -> None:
    record, _ = join(opened, "s2", minutes(1))
    voted = ana_approves_v2(record)
    assert voted.approvals == ["ana"]
    record, effects = join(voted, "s3", minutes(3))
    assert [v.version for v in record.versions] == [1, 2, 3]
    assert (effects, record.tell_at) == ([], minutes(5))
    assert record.approvals == []  # her vote was on version 2
    # When the interval ends the panel is told of version 3.
    record, effects = tick(record, minutes(5))
    assert effects == [Notify("amended", 3)]


@pytest.mark.parametrize(
    ("told", "told_at", "interval", "notified"),
    [
        (None, None, INTERVAL, True),  # a record kept before `told` was: as before
        (1, None, INTERVAL, True),
        (1, T0, timedelta(0), True),  # no interval: every join told at once
        (1, T0, INTERVAL, False),
    ],
)
def test_when_a_join_is_told_at_once(
    opened: ReviewRecord,
    told: int | None,
    told_at: datetime | None,
    interval: timedelta,
    notified: bool,
) -> None:
    record = opened.model_copy(update={"told": told, "told_at": told_at})
    situation = record.situation
    more = situation.signals[0].model_copy(update={"id": "s2"})
    now = situation.model_copy(update={"signals": [*situation.signals, more]})
    event = ReviewEvent(situation_id=situation.id, kind="joined", situation=now)
    after, effects = handle(record, event, PANEL, minutes(1), interval=interval)
    assert after is not None
    assert after.version == 2
    assert (effects == [Notify("amended", 2)]) is notified
    assert (after.tell_at is None) is notified


def test_a_reminder_shows_the_held_version_and_ends_the_wait(opened: ReviewRecord) -> None:
    record, _ = join(opened, "s2", minutes(1))
    assert opened.deadline is not None
    record, effects = tick(record, opened.deadline)  # the time limit, before tell_at acts
    assert Notify("reminder", 2) in effects
    assert (record.told, record.tell_at) == (2, None)


def test_a_decision_before_the_held_notice_leaves_nothing_to_tell(opened: ReviewRecord) -> None:
    record, _ = join(opened, "s2", minutes(1))
    decided = record.model_copy(update={"outcome": "approved"})
    after, effects = tick(decided, minutes(5))
    assert (effects, after.tell_at) == ([], None)


@pytest.mark.parametrize(
    ("stored", "due"),
    [
        ({"outcome": "pending", "deadline": "2026-03-02T11:00:00+00:00"}, T0 + timedelta(hours=2)),
        (
            {
                "outcome": "pending",
                "deadline": "2026-03-02T11:00:00+00:00",
                "tell_at": "2026-03-02T09:05:00+00:00",
            },
            minutes(5),
        ),
        (
            {"outcome": "pending", "deadline": None, "tell_at": "2026-03-02T09:05:00+00:00"},
            minutes(5),
        ),
        (
            {
                "outcome": "no_quorum",
                "deadline": "2026-03-02T11:00:00+00:00",
                "tell_at": "2026-03-02T09:05:00+00:00",
            },
            T0 + timedelta(hours=2),
        ),
        ({"outcome": "approved", "deadline": None, "tell_at": "2026-03-02T09:05:00+00:00"}, None),
    ],
)
def test_the_timer_looks_for_the_earliest_of_the_time_limit_and_the_held_notice(
    stored: dict[str, str | None], due: datetime | None
) -> None:
    assert _waiting_until(stored) == due


def test_a_notice_of_a_burst_shows_its_first_changes_and_latest_signals(
    opened: ReviewRecord,
) -> None:
    from concord.core.analysis import NOTICE_CHANGES, NOTICE_SIGNALS, draft
    from concord.notifiers.render import Renderer
    from tests.unit.factories import speaking

    record = opened
    for i in range(2, 202):
        record, _ = join(record, f"s{i}", minutes(1))
    assert len(record.current.changes) == 200
    assert len(record.situation.signals) == 201
    brief = draft(record.situation, "Zuidwijk", record.current, brief=True)
    assert len(brief.changes) == NOTICE_CHANGES
    assert brief.more_changes == 200 - NOTICE_CHANGES
    assert len(brief.signals) == NOTICE_SIGNALS
    assert brief.more_signals == 201 - NOTICE_SIGNALS
    renderer = speaking(Renderer("Europe/Brussels", "https://c.example"))
    text = renderer.analysis_text(brief, "fr")
    assert "signal s6 joined" in text
    assert "signal s7 joined" not in text
    assert "… et 195 de plus : voir la page d'examen" in text
    assert "Signalements (201)" in text
    assert "… et 191 de plus : voir la page d'examen" in text
    # The proposed response still fits in the one Slack block a notice's text goes in.
    assert "Protéger la victime" in text
    assert len(text) < 3000
    # The review page shows everything.
    full = renderer.analysis_text(draft(record.situation, "Zuidwijk", record.current), "fr")
    assert "signal s201 joined" in full
    assert "de plus" not in full
