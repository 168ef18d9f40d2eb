"""The matcher's index (concord.playbooks.matcher) agrees with checking every playbook."""

from __future__ import annotations

import random
from typing import Any

import pytest

from concord.playbooks.matcher import Matcher, View
from tests.unit.factories import DIRECTORY, playbook


def test_index_agrees_with_checking_every_playbook(situation_factory) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    cats = ["hate_crime", "vandalism", "rumour", "harassment"]
    pbs = []
    for i in range(300):
        when: dict[str, Any] = {}
        if rng.random() < 0.7:
            when["category"] = rng.sample(cats, rng.randint(1, 2))
        if rng.random() < 0.3:
            when["areas"] = [rng.choice(["north", "south", "city"])]
        if rng.random() < 0.3:
            when["any"] = [{"bias": ["anti_black"]}, {"kind": ["tension"]}]
        if rng.random() < 0.2:
            when["all"] = [{"category": rng.sample(cats, 2)}]
        if rng.random() < 0.2:
            when["not"] = {"category": [rng.choice(cats)]}
        if rng.random() < 0.2:
            when["exercise"] = rng.choice(["only", "exclude"])
        pbs.append(playbook(f"p{i:03}", when=when))
    m = Matcher(pbs, DIRECTORY)
    for _ in range(200):
        s = situation_factory(
            category=rng.choice(cats),
            kind=rng.choice(["incident", "tension"]),
            bias=rng.sample(["anti_black", "anti_roma"], rng.randint(0, 1)),
            area=rng.choice(["north", "centre", "south"]),
            exercise=rng.random() < 0.3,
        )
        view = View.of(s, m.tz)
        brute = [pb.id for pb in m.playbooks if m._fails(pb.when, view, top=True) is None]
        assert [pb.id for pb in m.match(s)] == brute


def with_wants(s: Any, *wants: str) -> Any:
    """The situation with one signal per `wants` (ids w0, w1, ...)."""
    refs = [
        s.signals[0].model_copy(update={"id": f"w{i}", "wants": w}) for i, w in enumerate(wants)
    ]
    return s.model_copy(update={"signals": refs})


# (the playbook's `wants`, what the signals' reporters want, the triggers it fires on)
WANTS: list[tuple[str | None, tuple[str, ...], list[str]]] = [
    (None, ("act",), ["w0"]),
    (None, ("register",), []),  # never acted on unless a playbook says so
    (None, ("register", "act"), ["w1"]),  # only what the acting report establishes
    ("act", ("register",), []),
    ("register", ("register", "act"), ["w0"]),  # e.g. tell an observatory
    ("any", ("register", "act"), ["w0", "w1"]),
]


@pytest.mark.parametrize(("wants", "signals", "triggers"), WANTS)
def test_a_playbook_acts_only_on_what_reporters_want_acted_on(
    situation_factory: Any, wants: str | None, signals: tuple[str, ...], triggers: list[str]
) -> None:
    when: dict[str, Any] = {"category": ["vandalism"]}
    if wants is not None:
        when["wants"] = wants
    m = Matcher([playbook("p", when=when)], DIRECTORY)
    s = with_wants(situation_factory(category="vandalism"), *signals)
    found = m.matches(s)
    assert (found[0][1] if found else []) == triggers
    if not triggers:
        assert "wants" in (m.explain(m.by_id["p"], s) or "")


def test_wants_in_a_nested_block_does_not_default_to_act(situation_factory: Any) -> None:
    """Only the top of a `when` means 'act' when silent: a `not` block does not."""
    when = {"wants": "register", "not": {"category": ["hate_crime"]}}
    m = Matcher([playbook("p", when=when)], DIRECTORY)
    s = with_wants(situation_factory(category="vandalism"), "register")
    assert [pb.id for pb in m.match(s)] == ["p"]
