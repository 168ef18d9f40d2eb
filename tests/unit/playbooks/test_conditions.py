"""The playbook language's conditions (concord.playbooks.conditions, matcher)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from concord.core.correlation import AreaState
from concord.core.decisions import Rules
from concord.playbooks.conditions import Threshold, TimeWindow, Trend
from concord.playbooks.matcher import Matcher, in_window
from concord.streams.situations import Situation
from tests.unit.factories import DIRECTORY, MONDAY_NOON_UTC, at, playbook, step_area
from tests.unit.factories import make_signal as signal


def matches(when: dict[str, Any], situation: Situation) -> bool:
    return bool(Matcher([playbook(when=when)], DIRECTORY).match(situation))


def test_severity_comparisons(situation_factory) -> None:  # type: ignore[no-untyped-def]
    s3 = situation_factory(severity=3)
    assert matches({"severity": {"gte": 3}}, s3)
    assert not matches({"severity": {"gt": 3}}, s3)
    assert matches({"severity": {"lt": 4, "gt": 2}}, s3)
    assert not matches({"severity": {"eq": 4}}, s3)
    assert Matcher([], DIRECTORY).explain(playbook(when={"severity": {"gte": 4}}), s3) == (
        "severity 3 is below 4"
    )
    with pytest.raises(ValidationError, match="no severity from 1 to 5"):
        playbook(when={"severity": {"gt": 4, "lt": 5}})


def test_all_any_not_combinators(situation_factory) -> None:  # type: ignore[no-untyped-def]
    s = situation_factory(category="vandalism", bias=["antisemitic"], tags=["synagogue"])
    assert matches({"any": [{"category": ["rumour"]}, {"tags": ["synagogue"]}]}, s)
    assert not matches({"any": [{"category": ["rumour"]}, {"tags": ["mosque"]}]}, s)
    assert matches({"all": [{"category": ["vandalism"]}, {"bias": ["antisemitic"]}]}, s)
    assert not matches({"all": [{"category": ["vandalism"]}, {"bias": ["anti_roma"]}]}, s)
    assert not matches({"category": ["vandalism"], "not": {"tags": ["synagogue"]}}, s)
    assert matches({"not": {"any": [{"severity": {"gte": 5}}, {"exercise": "only"}]}}, s)
    why = Matcher([], DIRECTORY).explain(playbook(when={"not": {"category": ["vandalism"]}}), s)
    assert why == "not: the excluded condition holds"


def test_areas_groups_tags_sources_and_drills(situation_factory) -> None:  # type: ignore[no-untyped-def]
    north = situation_factory(area="north", tags=["school", "online"])
    assert matches({"areas": ["city"]}, north)  # an area group
    assert not matches({"areas": ["south"]}, north)
    assert matches({"tags": ["school"]}, north)
    assert not matches({"tags": ["school", "mosque"]}, north)  # all tags are needed
    assert matches({"source_types": ["ngo", "police"]}, north)
    assert not matches({"source_types": ["school"]}, north)
    drill = situation_factory(exercise=True)
    assert matches({}, drill)
    assert not matches({"exercise": "exclude"}, drill)
    assert matches({"exercise": "only"}, drill)
    assert not matches({"exercise": "only"}, north)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in January 2026 in Brussels (5 = Monday ... 11 = Sunday)."""
    from zoneinfo import ZoneInfo

    return datetime(2026, 1, day, hour, minute, tzinfo=ZoneInfo("Europe/Brussels"))


def test_time_windows_days_and_past_midnight() -> None:
    evenings = TimeWindow.model_validate({"days": ["fri"], "from": "22:00", "to": "06:00"})
    assert in_window(evenings, local(9, 23))  # Friday 23:00
    assert in_window(evenings, local(10, 3))  # Saturday 03:00 belongs to Friday's window
    assert not in_window(evenings, local(10, 23))  # Saturday 23:00: Saturday is not listed
    assert not in_window(evenings, local(9, 21, 59))
    office = TimeWindow.model_validate({"days": ["mon", "tue"], "from": "09:00", "to": "17:00"})
    assert in_window(office, local(5, 9))
    assert not in_window(office, local(5, 17))
    whole_day = TimeWindow.model_validate({"days": ["sun"]})
    assert in_window(whole_day, local(11, 0))
    assert not in_window(whole_day, local(10, 23, 59))
    # YAML 1.1 reads an unquoted 18:00 as 1080: accepted as 18:00.
    assert TimeWindow.model_validate({"from": 1080}).start == time(18, 0)


def test_time_window_uses_the_city_time_zone(situation_factory) -> None:  # type: ignore[no-untyped-def]
    s = situation_factory()  # its signal occurred at 2026-01-01 00:00 UTC = 01:00 Brussels
    assert matches({"time": [{"from": "00:30", "to": "01:30"}]}, s)
    assert not matches({"time": [{"from": "23:30", "to": "00:30"}]}, s)


def feed(rules: Rules, signals: list[dict[str, Any]]) -> AreaState:
    state = AreaState()
    for i, kw in enumerate(signals):
        state = step_area(state, signal(id=f"s{i}", **kw), rules, MONDAY_NOON_UTC)
    return state


def test_threshold_counts_the_area_history_within_the_window() -> None:
    pb = playbook(
        when={"threshold": {"kind": ["incident"], "count": 3, "within": "24h"}},
    )
    rules = Rules(Matcher([pb], DIRECTORY), timedelta(hours=24))
    # Two incidents yesterday morning, one today: only two within 24 h of the last.
    state = feed(
        rules,
        [
            {"occurred_at": at(hours=-30)},
            {"occurred_at": at(hours=-20)},
            {"occurred_at": at(hours=-1), "kind": "tension"},
            {"occurred_at": at()},
        ],
    )
    assert state.situation is not None
    assert state.situation.matches == []
    assert "2 signal(s) within 1d, needs 3" in (
        Matcher([pb], DIRECTORY).explain(pb, state.situation) or ""
    )
    state = step_area(state, signal(id="s9", occurred_at=at(hours=1)), rules, MONDAY_NOON_UTC)
    assert state.situation is not None
    assert [m.status for m in state.situation.matches] == ["fired"]


def test_threshold_per_tag_prefix_counts_one_provider() -> None:
    spec = Threshold.model_validate(
        {"count": 2, "within": "30d", "tags": ["housing"], "per_tag_prefix": "provider-"}
    )
    pb = playbook(when={"threshold": spec.model_dump(by_alias=True, mode="json")})
    rules = Rules(Matcher([pb], DIRECTORY), timedelta(hours=24))
    spread = feed(
        rules,
        [
            {"occurred_at": at(days=-3), "tags": ["housing", "provider-a"]},
            {"occurred_at": at(), "tags": ["housing", "provider-b"]},
        ],
    )
    assert spread.situation is not None
    assert spread.situation.measures[spec.key] == [1]
    same = feed(
        rules,
        [
            {"occurred_at": at(days=-3), "tags": ["housing", "provider-a"]},
            {"occurred_at": at(), "tags": ["housing", "provider-a"]},
        ],
    )
    assert same.situation is not None
    assert same.situation.measures[spec.key] == [2]
    assert [m.playbook for m in same.situation.matches] == ["p"]


def test_trend_compares_the_two_halves_of_the_period() -> None:
    rising = Trend.model_validate({"over": "4d", "kind": ["tension"], "min_signals": 3})
    falling = Trend.model_validate({"over": "4d", "direction": "falling", "by": "severity"})
    pbs = [
        playbook("up", when={"trend": rising.model_dump(mode="json")}),
        playbook("down", when={"trend": falling.model_dump(mode="json")}),
    ]
    rules = Rules(Matcher(pbs, DIRECTORY), timedelta(hours=24))
    tension = {"kind": "tension", "category": "demonstration"}
    up = feed(
        rules,
        [
            {**tension, "occurred_at": at(days=-3)},
            {**tension, "occurred_at": at(days=-1)},
            {**tension, "occurred_at": at()},
        ],
    )
    assert up.situation is not None
    assert up.situation.measures[rising.key] == [1, 2, 3]
    assert {m.playbook for m in up.situation.matches} == {"up"}
    down = feed(
        rules,
        [
            {**tension, "severity": 5, "occurred_at": at(days=-3)},
            {**tension, "severity": 2, "occurred_at": at()},
        ],
    )
    assert down.situation is not None
    assert down.situation.measures[falling.key] == [5, 2, 2]
    assert {m.playbook for m in down.situation.matches} == {"down"}  # "up" needs 3 signals
