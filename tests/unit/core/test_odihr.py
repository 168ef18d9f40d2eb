"""The ODIHR export (concord.core.odihr): the mappings as literal tables, drills and small
counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from concord.core import odihr
from concord.streams.signals import Bias, Category
from concord.streams.situations import Situation
from tests.unit.factories import make_situation


def test_the_bias_mapping() -> None:
    assert {b.value: m for b, m in odihr.BIAS.items()} == {
        "anti_black": "Racism and xenophobia",
        "anti_migrant": "Racism and xenophobia",
        "anti_asian": "Racism and xenophobia",
        "anti_roma": "Bias against Roma and Sinti",
        "antisemitic": "Anti-Semitism",
        "anti_muslim": "Bias against Muslims",
        "other": "Other",
    }
    assert set(odihr.BIAS) == set(Bias)  # every motivation Concord knows is mapped


def test_the_incident_type_mapping() -> None:
    assert {c.value: t for c, t in odihr.TYPE.items()} == {
        "hate_crime": "Violent attacks against people",
        "harassment": "Threats",
        "vandalism": "Attacks against property",
    }
    left_out = set(Category) - set(odihr.TYPE)
    assert {c.value for c in left_out} == {
        "hate_speech", "online_hate", "discrimination", "rumour", "demonstration",
        "intergroup_conflict", "other",
    }  # fmt: skip


def situations(
    n: int, category: str, bias: list[str], year: int = 2026, **kw: object
) -> list[Situation]:
    out = []
    for i in range(n):
        s = make_situation(category=category, bias=bias, **kw)  # type: ignore[arg-type]
        at = datetime(year, 3, 1, tzinfo=UTC)
        ref = s.signals[0].model_copy(update={"id": f"{category}-{year}-{i}", "occurred_at": at})
        out.append(s.model_copy(update={"id": f"sit-{category}-{year}-{i}", "signals": [ref]}))
    return out


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        # seven anti-Black assaults: a band of five
        (situations(7, "hate_crime", ["anti_black"]),
         [("2026", "Racism and xenophobia", "Violent attacks against people", "5-9")]),
        # two motivations: counted under each; under 5 is suppressed
        (situations(2, "vandalism", ["antisemitic", "anti_muslim"]),
         [("2026", "Anti-Semitism", "Attacks against property", "<5"),
          ("2026", "Bias against Muslims", "Attacks against property", "<5")]),
        # no motivation given: Other
        (situations(1, "harassment", []), [("2026", "Other", "Threats", "<5")]),
        # not hate crimes for ODIHR, drills, tension signals, another year: nothing
        (situations(9, "hate_speech", ["anti_black"]), []),
        (situations(9, "hate_crime", ["anti_black"], exercise=True), []),
        (situations(9, "hate_crime", ["anti_black"], kind="tension"), []),
        (situations(9, "hate_crime", ["anti_black"], year=2025), []),
    ],
)  # fmt: skip
def test_rows(made: list[Situation], expected: list[tuple[str, ...]]) -> None:
    assert odihr.rows(made, 2026) == expected


def test_a_signal_kept_by_two_snapshots_counts_once() -> None:
    (s,) = situations(1, "hate_crime", ["anti_roma"])
    merged = s.model_copy(update={"id": "sit-other"})
    assert odihr.counts([s, merged], 2026) == {
        ("Bias against Roma and Sinti", "Violent attacks against people"): 1
    }
