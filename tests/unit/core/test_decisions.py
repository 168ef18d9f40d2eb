"""Decisions (concord.core.decisions): fired, suppressed, inhibited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from concord.core.correlation import AreaState
from concord.core.decisions import Rules
from concord.playbooks.matcher import Matcher
from tests.unit.factories import DIRECTORY, MONDAY_NOON_UTC, at, playbook, step_area
from tests.unit.factories import make_signal as signal

DAY = timedelta(hours=24)


def run(rules: Rules, signals: list[dict[str, Any]], area: str = "north") -> list[AreaState]:
    states, state = [], AreaState()
    for i, kw in enumerate(signals):
        state = step_area(state, signal(id=f"s{i}", area=area, **kw), rules, MONDAY_NOON_UTC)
        states.append(state)
    return states


def statuses(state: AreaState) -> dict[str, str]:
    assert state.situation is not None
    return {m.playbook: m.status for m in state.situation.matches}


def test_a_playbook_fires_once_per_situation() -> None:
    rules = Rules(Matcher([playbook("p")], DIRECTORY), DAY, {"p": "abc123"})
    states = run(rules, [{"occurred_at": at()}, {"occurred_at": at(hours=1)}])
    first, second = (s.situation for s in states)
    assert first is not None
    assert second is not None
    assert first.id == second.id
    # The decision of signal 1 is kept, not redone; signal 2 is a repeat of it.
    assert [m.model_copy(update={"repeats": []}) for m in second.matches] == first.matches
    assert second.matches[0].repeats == ["s1"]
    assert first.matches[0].repeats == []
    assert first.matches[0].revision == "abc123"
    assert first.matches[0].version == 1
    # Two ngo reports of severity 3, an hour apart: (2.7 + 2.7 x 0.5 ** (1/72)) x 1.
    assert second.tension.level == "moderate"
    assert 5.3 < second.tension.score < 5.4


def test_same_area_suppression_across_situations() -> None:
    pb = playbook("p", suppress={"same_area_for": "3d"})
    rules = Rules(Matcher([pb], DIRECTORY), DAY)
    states = run(
        rules,
        [{"occurred_at": at()}, {"occurred_at": at(days=2)}, {"occurred_at": at(days=4)}],
    )
    assert [statuses(s)["p"] for s in states] == ["fired", "suppressed", "fired"]
    second = states[1].situation
    assert second is not None
    assert "quiet for 3d" in second.matches[0].reason
    # Another area is not suppressed.
    other = step_area(states[0], signal(id="x", area="south", occurred_at=at(days=1)), rules, at())
    assert statuses(other)["p"] == "fired"


def test_inhibition_by_a_more_specific_playbook() -> None:
    specific = playbook("assault", when={"severity": {"gte": 3}}, suppress={"inhibits": ["any"]})
    generic = playbook("any")
    rules = Rules(Matcher([specific, generic], DIRECTORY), DAY)
    minor, grave = (
        run(rules, [{"severity": 2, "occurred_at": at()}]),
        run(rules, [{"severity": 4, "occurred_at": at()}]),
    )
    assert statuses(minor[0]) == {"any": "fired"}
    assert statuses(grave[0]) == {"assault": "fired", "any": "inhibited"}
    grave_situation = grave[0].situation
    assert grave_situation is not None
    reasons = {m.playbook: m.reason for m in grave_situation.matches}
    assert reasons == {"any": "inhibited by assault", "assault": ""}
    # Once the generic one fired, an escalation later does not take it back.
    later = run(
        rules, [{"severity": 2, "occurred_at": at()}, {"severity": 4, "occurred_at": at(1)}]
    )
    assert statuses(later[-1]) == {"any": "fired", "assault": "fired"}


def test_a_repeat_is_a_later_signal_the_fired_playbook_holds_for_again() -> None:
    pb = playbook("p", when={"severity": {"gte": 3}})
    rules = Rules(Matcher([pb], DIRECTORY), DAY)
    states = run(
        rules,
        [
            {"occurred_at": at(), "severity": 3},
            {"occurred_at": at(hours=1), "severity": 2},  # not a trigger: no repeat
            {"occurred_at": at(hours=2), "severity": 4},
            {"occurred_at": at(hours=3), "severity": 3},
        ],
    )
    repeats = [s.situation.matches[0].repeats for s in states if s.situation]
    assert repeats == [[], [], ["s2"], ["s2", "s3"]]
    assert {s.situation.matches[0].status for s in states if s.situation} == {"fired"}
    assert states[-1].situation
    assert states[-1].situation.matches[0].signals == ["s0"]
