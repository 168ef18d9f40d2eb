"""The matcher's index (concord.playbooks.matcher) agrees with checking every playbook."""

from __future__ import annotations

import random
from typing import Any

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
        brute = [pb.id for pb in m.playbooks if m._fails(pb.when, view) is None]
        assert [pb.id for pb in m.match(s)] == brute
