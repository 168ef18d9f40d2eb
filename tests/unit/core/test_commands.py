"""Coordinators' situation commands (concord.core.commands): state, split, merge."""

from __future__ import annotations

import pytest

from concord.core.commands import CommandError, apply_command, plan_command, refusal
from concord.core.correlation import AreaState, situation_id
from concord.core.decisions import Rules
from concord.streams.situations import SituationCommand, SituationState
from tests.unit.core.areas import T0, feed
from tests.unit.factories import make_situation


def command(state: AreaState, sid: str, action: str, **kw: object) -> SituationCommand:
    return SituationCommand(
        situation_id=sid,
        key="north|real",
        action=action,
        actor="coord",
        **kw,
    )


def test_state_commands_reach_any_open_situation_of_the_area(rules: Rules) -> None:
    state = feed(rules, ("a", "hate_crime", 0), ("h", "discrimination", 1))
    assault = situation_id("a", "north")  # not the current one any more
    after, changed = apply_command(state, command(state, assault, "state", to="monitoring"), T0)
    assert [s.id for s in changed] == [assault]
    found = after.find(assault)
    assert found is not None
    assert found.state == SituationState.monitoring
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
    assert split.id == situation_id("b", "north")
    assert split.split_from == sid
    assert [r.id for r in split.signals] == ["b", "c"]
    assert split.categories == [
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
    assert closed.state == SituationState.closed
    assert closed.merged_into == sid
    with pytest.raises(CommandError, match="other: no such situation"):
        apply_command(merged_state, command(merged_state, sid, "merge", other=sid), T0)


def test_refusal_names_the_field_of_a_bad_request(situation_factory) -> None:  # type: ignore[no-untyped-def]
    sit = situation_factory()
    ids = [r.id for r in sit.signals]
    missing = refusal(sit, command(AreaState(), sit.id, "state"))
    assert missing is not None
    assert missing.errors == [{"loc": "to", "msg": "Field required"}]
    unknown = refusal(sit, command(AreaState(), sit.id, "split", signals=["nope"]))
    assert unknown is not None
    assert unknown.errors[0]["loc"] == "signals"
    assert unknown.errors[0]["msg"] == f"not in {sit.id}: ['nope']"
    everything = refusal(sit, command(AreaState(), sit.id, "split", signals=ids))
    assert everything is not None
    assert "at least one signal" in everything.errors[0]["msg"]
    alone = refusal(sit, command(AreaState(), sit.id, "merge", other=sit.id), other=sit)
    assert alone is not None
    assert alone.errors == [{"loc": "other", "msg": "no such situation"}]


def test_refusal_without_fields_is_about_the_states(situation_factory) -> None:  # type: ignore[no-untyped-def]
    sit = situation_factory().model_copy(update={"state": SituationState.closed})
    reopen = refusal(sit, command(AreaState(), sit.id, "state", to="open"))
    assert reopen is not None
    assert reopen.errors == []
    assert "is closed: it cannot become open (allowed: none)" in reopen.reason
    assert refusal(sit, command(AreaState(), sit.id, "state", to="closed")) is None  # no-op
    elsewhere = sit.model_copy(update={"id": "sit-other", "area": "south"})
    across = refusal(sit, command(AreaState(), sit.id, "merge", other="sit-other"), other=elsewhere)
    assert across is not None
    assert across.errors == []
    assert "same area" in across.reason


def test_a_split_is_placed_where_its_signals_happened_and_the_playbooks_decide_for_it() -> None:
    from datetime import timedelta

    from concord.playbooks.matcher import Matcher
    from tests.unit.factories import DIRECTORY, make_signal, playbook, step_area

    pb = playbook("vandalism", when={"category": ["vandalism"]})
    rules = Rules(Matcher([pb], DIRECTORY), timedelta(hours=24))
    state = AreaState()
    for sid, area, hours in (("a", "centre", 0), ("b", "north", 1), ("c", "north", 2)):
        sig = make_signal(
            id=sid, category="vandalism", area=area, occurred_at=T0 + timedelta(hours=hours)
        )
        state = step_area(state, sig, rules, T0)
    assert state.situation is not None
    assert state.situation.areas == ["centre", "north"]
    sid = state.situation.id
    _, (kept, split) = apply_command(
        state, command(state, sid, "split", signals=["b", "c"]), T0, rules
    )
    assert (kept.area, kept.areas) == ("centre", ["centre"])
    assert (split.area, split.areas) == ("north", ["north"])
    assert [(m.playbook, m.status, m.signals) for m in split.matches] == [
        ("vandalism", "fired", ["b", "c"])
    ]
    assert kept.matches == state.situation.matches  # what fired for it stays
    # Without the playbooks (a replay of the old command path), nothing is decided.
    _, (_, bare) = apply_command(state, command(state, sid, "split", signals=["b", "c"]), T0)
    assert bare.matches == []


def test_a_plan_command_names_the_area_state_its_situation_lives_under() -> None:
    for exercise, key in [(False, "north|real"), (True, "north|exercise")]:
        situation = make_situation(area="north", exercise=exercise)
        command = plan_command(situation, "p1: no such role")
        assert (command.action, command.key, command.situation_id) == ("plan", key, situation.id)
        assert (command.actor, command.reason) == ("concord", "p1: no such role")
