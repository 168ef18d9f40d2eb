"""Referral (concord.core.referral): which competent body a report goes to, and why.

The example directory's bodies (directory.yml): the labour inspectorate, exclusive for
discrimination in the south; the equality body for discrimination, hate speech, online
hate and harassment; the police (complaints) for what may be an offence.
"""

from __future__ import annotations

import pytest

from concord.core.referral import OFFENCES, decide
from concord.streams.signals import Bias, Category
from tests.unit.factories import DIRECTORY

# (category, area, the reporter asks, the body, why) — None: not referred
TABLE: list[tuple[str, str, bool, str | None, str | None]] = [
    ("discrimination", "south", False, "labour-inspection", "competent"),  # exclusive
    ("discrimination", "south", True, "labour-inspection", "competent"),
    ("discrimination", "north", False, None, None),  # the city handles it
    ("discrimination", "north", True, "equality-body", "asked"),
    ("online_hate", "centre", True, "equality-body", "asked"),  # first competent wins
    ("hate_speech", "centre", True, "equality-body", "asked"),
    ("hate_crime", "centre", True, "police-complaints", "asked"),  # an offence
    ("vandalism", "north", True, "police-complaints", "asked"),
    ("rumour", "north", True, None, None),  # nobody is competent: the city keeps it
    ("intergroup_conflict", "south", True, None, None),
]


@pytest.mark.parametrize(("category", "area", "asked", "body", "why"), TABLE)
def test_a_report_goes_to_the_first_competent_body(
    category: str, area: str, asked: bool, body: str | None, why: str | None
) -> None:
    got = decide(DIRECTORY, Category(category), [], area, asked)
    assert (got.body.id if got else None, got.why if got else None) == (body, why)


def test_a_body_can_be_competent_for_some_motivations_only() -> None:
    bodies = DIRECTORY.model_copy(deep=True)
    data = bodies.model_dump(mode="json")
    data["bodies"] = [
        {
            "id": "roma-mediation",
            "name": "Roma mediation",
            "email": "roma@example.org",
            "competent": {"bias": ["anti_roma"]},
        }
    ]
    directory = type(DIRECTORY).model_validate(data)
    assert decide(directory, Category.harassment, [Bias.anti_roma], "north", True) is not None
    assert decide(directory, Category.harassment, [Bias.anti_black], "north", True) is None
    assert decide(directory, Category.harassment, [], "north", True) is None


def test_what_may_be_an_offence() -> None:
    assert {c.value for c in OFFENCES} == {"hate_crime", "hate_speech", "vandalism"}


def test_a_body_must_be_reachable_and_know_its_areas() -> None:
    data = DIRECTORY.model_dump(mode="json")
    data["bodies"] = [{"id": "x", "name": "X", "competent": {}}]
    with pytest.raises(ValueError, match="referral address"):
        type(DIRECTORY).model_validate(data)
    data["bodies"] = [
        {"id": "x", "name": "X", "email": "x@e.org", "competent": {"areas": ["mars"]}}
    ]
    with pytest.raises(ValueError, match="unknown areas"):
        type(DIRECTORY).model_validate(data)
