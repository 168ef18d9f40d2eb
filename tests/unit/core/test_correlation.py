"""Correlation (concord.core.correlation): which situation a signal joins, windows and drills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from concord.config.directory import load_directory
from concord.core.correlation import (
    AreaState,
    Step,
    area_key,
    compatible,
    correlate,
    holding,
    same_motive,
    situation_id,
    step,
)
from concord.core.decisions import Rules
from concord.streams.signals import Bias, Category
from tests.unit.core.areas import T0, feed
from tests.unit.factories import ROOT, step_area
from tests.unit.factories import make_signal as signal

NOW = datetime(2026, 1, 1, 13, tzinfo=UTC)


def test_correlation_groups_within_window_and_keeps_drills_apart() -> None:
    window = timedelta(hours=24)
    first = correlate(None, signal(id="a", severity=2), window, NOW)
    assert first.id == situation_id("a", "north")
    assert first.severity == 2
    second = correlate(
        first,
        signal(
            id="b",
            category="rumour",
            kind="tension",
            severity=4,
            occurred_at=datetime(2026, 1, 2, 6, tzinfo=UTC),
        ),
        window,
        NOW,
    )
    assert second.id == first.id
    assert [r.id for r in second.signals] == ["a", "b"]
    # A tension signal adds its category, never its severity (that is the incidents').
    assert second.severity == 2
    assert second.categories == ["hate_crime", "rumour"]
    assert correlate(second, signal(id="b"), window, NOW) is second  # same id: no change
    later = correlate(
        second, signal(id="c", occurred_at=datetime(2026, 1, 5, tzinfo=UTC)), window, NOW
    )
    assert later.id != first.id
    assert len(later.signals) == 1
    drill = signal(id="d", exercise=True)
    assert area_key(drill.area, drill.exercise) != area_key("north", False)


def test_compatible_categories() -> None:
    assert compatible([Category.hate_crime], Category.rumour)
    assert compatible([Category.demonstration], Category.intergroup_conflict)
    assert not compatible([Category.hate_crime], Category.discrimination)
    assert compatible([Category.discrimination], Category.discrimination)
    assert compatible([Category.discrimination], Category.other)


def test_a_later_signal_updates_the_situation_an_unrelated_one_opens_another(
    rules: Rules,
) -> None:
    state = feed(
        rules,
        ("a", "hate_crime", 0),
        ("h", "discrimination", 1),  # a housing refusal: its own situation
        ("b", "rumour", 2),  # joins the assault's situation, not the housing one
        ("h2", "discrimination", 3),
    )
    assault = state.find(situation_id("a", "north"))
    housing = state.find(situation_id("h", "north"))
    assert assault is not None
    assert housing is not None
    assert [r.id for r in assault.signals] == ["a", "b"]
    assert [r.id for r in housing.signals] == ["h", "h2"]
    assert state.situation is not None
    assert state.situation.id == housing.id
    # The analysis of one recalls the other.
    assert [p.id for p in housing.context.previous] == [assault.id]
    # Outside the window, a new situation.
    state = step_area(state, signal(id="c", occurred_at=T0 + timedelta(days=3)), rules, T0)
    assert state.situation is not None
    assert state.situation.id == situation_id("c", "north")
    # A duplicate changes nothing.
    assert step_area(state, signal(id="b", category="rumour"), rules, T0) is state


def test_a_signal_joins_the_situation_of_a_neighbouring_area(rules: Rules) -> None:
    directory = load_directory(ROOT / "directory.yml")
    assert {directory.zone(a) for a in ("north", "centre", "south")} == {"centre"}
    assert directory.neighbours("north") == ["centre"]
    states: dict[str, AreaState] = {}

    def send(sid: str, area: str, category: str, hours: int) -> Step:
        s = signal(id=sid, area=area, category=category, occurred_at=T0 + timedelta(hours=hours))
        moved = step(states.get, s, directory.neighbours(area), rules, T0)
        states.update(moved.states)
        return moved

    first = send("a", "north", "hate_crime", 0)
    assert first.situation is not None
    assert first.before is None
    joined = send("b", "centre", "rumour", 2)
    assert joined.situation is not None
    assert joined.situation.id == first.situation.id
    assert joined.situation.areas == ["north", "centre"]
    assert [r.area for r in joined.situation.signals] == ["north", "centre"]
    assert set(joined.states) == {"north|real", "centre|real"}
    assert [t.id for t in states["centre|real"].history] == ["b"]  # its own area's history
    assert states["centre|real"].situation is None
    # Not compatible: its own situation in centre.
    housing = send("h", "centre", "discrimination", 3)
    assert housing.situation is not None
    assert housing.situation.area == "centre"
    # South is not next to north: a new situation, even within the window.
    south = send("s", "south", "hate_crime", 4)
    assert south.situation is not None
    assert south.situation.id == situation_id("s", "south")
    # Replayed: nothing changes.
    assert send("b", "centre", "rumour", 2).states == {}


def test_the_situation_holding_a_signal_correlated_before(rules: Rules) -> None:
    """What a replayed signal is part of now: its own area's situation, or the
    neighbour's it joined; None for a signal never correlated, or from a drill."""
    directory = load_directory(ROOT / "directory.yml")
    states: dict[str, AreaState] = {}

    def send(sid: str, area: str, category: str, hours: int, exercise: bool = False) -> None:
        s = signal(
            id=sid,
            area=area,
            category=category,
            occurred_at=T0 + timedelta(hours=hours),
            exercise=exercise,
        )
        states.update(step(states.get, s, directory.neighbours(area), rules, T0).states)

    send("a", "north", "hate_crime", 0)
    send("b", "centre", "rumour", 2)  # joins north's situation
    send("h", "centre", "discrimination", 3)  # its own, in centre
    send("d", "north", "hate_crime", 1, exercise=True)  # a drill's, apart
    north = situation_id("a", "north")
    table = [
        # the signal (id, area, exercise), the situation holding it
        (("a", "north", False), north),
        (("b", "centre", False), north),
        (("h", "centre", False), situation_id("h", "centre")),
        (("d", "north", True), situation_id("d", "north")),
        (("d", "north", False), None),  # a real signal's areas hold no drill's
        (("x", "north", False), None),
    ]
    for (sid, area, exercise), expected in table:
        s = signal(id=sid, area=area, exercise=exercise)
        found = holding(states.get, s, directory.neighbours(area))
        assert (found.id if found else None) == expected, sid


A, M, MG, R = Bias.antisemitic, Bias.anti_muslim, Bias.anti_migrant, Bias.anti_roma
MOTIVES = [
    # the situation's motivations, the signal's, the city's links, joins
    ([], [], (), True),
    ([A], [], (), True),  # a signal that names no motivation (a rumour) may join
    ([], [M], (), True),  # a situation with none yet takes any
    ([A], [A], (), True),
    ([M], [A], (), False),  # antisemitic and anti-Muslim: two situations
    ([M, A], [A], (), True),
    ([M], [A, M], (), True),  # shares one
    ([M], [MG], (), False),
    ([M], [MG], (frozenset({M, MG}),), True),  # linked by the city
    ([MG], [M], (frozenset({M, MG}),), True),
    ([M], [R], (frozenset({M, MG}),), False),
    ([Bias.other], [A], (), False),
]


@pytest.mark.parametrize(("situation", "signal", "linked", "joins"), MOTIVES)
def test_different_motivations_stay_apart(
    situation: list[Bias], signal: list[Bias], linked: tuple[frozenset[Bias], ...], joins: bool
) -> None:
    assert same_motive(situation, signal, linked) is joins


def test_an_antisemitic_and_an_anti_muslim_incident_in_one_area_are_two_situations() -> None:
    window = timedelta(hours=24)
    assault = correlate(None, signal(id="a", bias=["anti_muslim"]), window, NOW)
    graffiti = signal(
        id="b", bias=["antisemitic"], occurred_at=datetime(2026, 1, 1, 14, tzinfo=UTC)
    )
    assert correlate(assault, graffiti, window, NOW).id != assault.id
    linked = (frozenset({Bias.anti_muslim, Bias.antisemitic}),)
    assert correlate(assault, graffiti, window, NOW, linked).id == assault.id
