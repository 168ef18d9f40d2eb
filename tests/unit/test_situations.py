"""Correlation into situations: compatible categories, concurrent situations, commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from concord.core.commands import CommandError, apply_command
from concord.core.correlation import AreaState, Rules, Step, compatible, situation_id, step
from concord.directory import load_directory
from concord.playbooks.matcher import Matcher
from concord.streams.signals import Category
from concord.streams.situations import SituationCommand, SituationState
from tests.unit.factories import make_signal as signal
from tests.unit.factories import step_area

T0 = datetime(2026, 4, 1, 10, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(Matcher([], load_directory(ROOT / "directory.yml")), timedelta(hours=24))


def feed(rules: Rules, *specs: tuple[str, str, int]) -> AreaState:
    state = AreaState()
    for sid, category, hours in specs:
        at = T0 + timedelta(hours=hours)
        state = step_area(state, signal(id=sid, category=category, occurred_at=at), rules, T0)
    return state


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
    assert assault is not None and housing is not None
    assert [r.id for r in assault.signals] == ["a", "b"]
    assert [r.id for r in housing.signals] == ["h", "h2"]
    assert state.situation is not None and state.situation.id == housing.id
    # The analysis of one recalls the other.
    assert [p.id for p in housing.context.previous] == [assault.id]
    # Outside the window, a new situation.
    state = step_area(state, signal(id="c", occurred_at=T0 + timedelta(days=3)), rules, T0)
    assert state.situation is not None and state.situation.id == situation_id("c", "north")
    # A duplicate changes nothing.
    assert step_area(state, signal(id="b", category="rumour"), rules, T0) is state


def command(state: AreaState, sid: str, action: str, **kw: object) -> SituationCommand:
    return SituationCommand(
        situation_id=sid,
        key="north|real",
        action=action,
        actor="coord",
        **kw,  # type: ignore[arg-type]
    )


def test_state_commands_reach_any_open_situation_of_the_area(rules: Rules) -> None:
    state = feed(rules, ("a", "hate_crime", 0), ("h", "discrimination", 1))
    assault = situation_id("a", "north")  # not the current one any more
    after, changed = apply_command(state, command(state, assault, "state", to="monitoring"), T0)
    assert [s.id for s in changed] == [assault]
    found = after.find(assault)
    assert found is not None and found.state == SituationState.monitoring
    after, changed = apply_command(after, command(after, assault, "state", to="closed"), T0)
    with pytest.raises(CommandError, match="is closed: it cannot become open"):
        apply_command(after, command(after, assault, "state", to="open"), T0)
    with pytest.raises(CommandError, match="is not open"):
        apply_command(after, command(after, "sit-nope", "state", to="closed"), T0)


def test_split_and_merge(rules: Rules) -> None:
    state = feed(rules, ("a", "hate_crime", 0), ("b", "rumour", 2), ("c", "vandalism", 3))
    sid = situation_id("a", "north")
    after, changed = apply_command(state, command(state, sid, "split", signals=["b", "c"]), T0)
    original, split = changed
    assert [r.id for r in original.signals] == ["a"]
    assert split.id == situation_id("b", "north") and split.split_from == sid
    assert [r.id for r in split.signals] == ["b", "c"] and split.categories == [
        "rumour",
        "vandalism",
    ]
    assert after.find(split.id) is not None
    for bad, msg in (
        (["zzz"], r"signals: not in sit-\S+: \['zzz'\]"),
        ([], "signals: Field required"),
        (["a"], "a split must leave at least one signal in the situation"),
    ):
        with pytest.raises(CommandError, match=msg):
            apply_command(after, command(after, sid, "split", signals=bad), T0)
    # And back together: the split-off situation is closed, merged into the original.
    merged_state, (merged, closed) = apply_command(
        after, command(after, sid, "merge", other=split.id), T0
    )
    assert [r.id for r in merged.signals] == ["a", "b", "c"]
    assert closed.state == SituationState.closed and closed.merged_into == sid
    with pytest.raises(CommandError, match="other: no such situation"):
        apply_command(merged_state, command(merged_state, sid, "merge", other=sid), T0)


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
    assert first.situation is not None and first.before is None
    joined = send("b", "centre", "rumour", 2)
    assert joined.situation is not None and joined.situation.id == first.situation.id
    assert joined.situation.areas == ["north", "centre"]
    assert [r.area for r in joined.situation.signals] == ["north", "centre"]
    assert set(joined.states) == {"north|real", "centre|real"}
    assert [t.id for t in states["centre|real"].history] == ["b"]  # its own area's history
    assert states["centre|real"].situation is None
    # Not compatible: its own situation in centre.
    housing = send("h", "centre", "discrimination", 3)
    assert housing.situation is not None and housing.situation.area == "centre"
    # South is not next to north: a new situation, even within the window.
    south = send("s", "south", "hate_crime", 4)
    assert south.situation is not None and south.situation.id == situation_id("s", "south")
    # Replayed: nothing changes.
    assert send("b", "centre", "rumour", 2).states == {}
