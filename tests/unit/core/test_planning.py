"""Planning (concord.core.planning): fired playbooks become tasks, with roles, languages and escalation chains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from concord.core.planning import plan_tasks
from concord.playbooks.loader import load_playbooks
from tests.unit.factories import DIRECTORY, ROOT, at, playbook

NOW = datetime(2026, 1, 1, 13, tzinfo=UTC)


def test_planning_is_deterministic_and_holds_dependants(situation_factory) -> None:  # type: ignore[no-untyped-def]
    pb = next(
        p
        for p in load_playbooks([ROOT / "playbooks"], DIRECTORY).playbooks
        if p.id == "racist-assault"
    )
    sit = situation_factory(severity=4)
    tasks = plan_tasks(sit, pb, DIRECTORY, NOW)
    again = plan_tasks(sit, pb, DIRECTORY, NOW)
    assert [t.id for t in tasks] == [t.id for t in again]
    by_key = {t.task_key: t for t in tasks}
    assert by_key["protect"].assignee == "police-duty"
    assert by_key["protect"].urgent
    assert by_key["protect"].due == NOW + timedelta(hours=2)
    assert "Quartier Nord" in by_key["protect"].action
    assert "4/5" in by_key["protect"].action
    assert by_key["schools-watch"].depends_on == [by_key["protect"].id]
    # The track stage holds the dependent one until its prerequisite is done.
    assert not by_key["protect"].depends_on
    assert by_key["schools-watch"].depends_on == [by_key["protect"].id]
    assert by_key["protect"].channels == ["slack", "email"]


def test_a_template_that_fails_at_render_is_refused_not_raised(situation_factory) -> None:  # type: ignore[no-untyped-def]
    from concord.core.planning import PlanningError, plan_or_refuse
    from concord.playbooks.schema import Playbook

    pb = Playbook.model_validate(
        {
            "id": "broken",
            "title": "B",
            "tasks": [
                {
                    "id": "t",
                    "agency": "police",
                    "title": "T",
                    "action": "Go to {{ situation.street }}",
                }
            ],  # passes the name check
        }
    )
    with pytest.raises(PlanningError) as exc:
        plan_or_refuse(situation_factory(), pb, DIRECTORY, NOW)
    assert exc.value.playbook_id == "broken"
    assert "street" in exc.value.reason


def test_planning_resolves_roles_languages_and_escalation(situation_factory) -> None:  # type: ignore[no-untyped-def]
    pb = playbook(
        "p",
        on_prerequisite_declined="release",
        tasks=[
            {
                "id": "a",
                "role": "equality_body",
                "title": {"en": "Inquiry", "nl": "Onderzoek"},
                "action": {"en": "In {{ area.name }}", "nl": "In {{ area.name }} (nl)"},
                "due": "1d",
                "escalate_after": "2h",
                "escalate_to": ["coordinator"],
                "fallback": "ngo-antiracism",
            },
            {**{"agency": "police", "title": "T", "action": "b"}, "id": "b", "depends_on": ["a"]},
        ],
    )
    a, b = plan_tasks(situation_factory(area="south"), pb, DIRECTORY, at(), "rev1")
    assert a.agency == "equality"
    assert a.assignee == "equality-duty"
    assert (a.title, a.action) == ("Inquiry", "In Zuidwijk")
    assert a.text("nl").action == "In Zuidwijk (nl)"
    assert a.text("fr").title == "Inquiry"
    assert a.escalate_after == timedelta(hours=2)
    assert a.escalate_to == ["coordinator"]
    assert a.fallback == "ngo-antiracism"
    assert a.playbook_revision == "rev1"
    assert b.depends_on == [a.id]
    assert b.release_on_decline


def two_places() -> Any:
    """A situation in the north that a second signal, in the centre, joined."""
    from tests.unit.factories import make_situation

    sit = make_situation(severity=4)
    second = sit.signals[0].model_copy(update={"id": "s2", "area": "centre"})
    return sit.model_copy(update={"signals": [*sit.signals, second], "last_signal": "s2"})


def racist_assault(**fields: Any) -> Any:
    pb = next(
        p
        for p in load_playbooks([ROOT / "playbooks"], DIRECTORY).playbooks
        if p.id == "racist-assault"
    )
    return pb.model_copy(update=fields)


REPEATS = [
    # per, the suffix of the set that covers the area (None: none), new set?, told set
    ("situation", None, None, ""),
    ("situation", "", None, ""),
    ("area", None, "@centre", None),  # a place with no tasks yet: its own tasks
    ("area", "", None, ""),  # the first set covers it: told
    ("area", "@centre", None, "@centre"),  # its own set covers it: told
    ("signal", None, "#s2", None),
    ("signal", "", "#s2", None),
]


@pytest.mark.parametrize(("per", "covered", "new", "told"), REPEATS)
def test_a_repeat_makes_tasks_or_tells_them_per_the_playbook(
    per: str, covered: str | None, new: str | None, told: str | None
) -> None:
    from concord.core.planning import repeat, task_id

    sit, pb = two_places(), racist_assault(per=per)
    done = repeat(sit, pb, "s2", covered, DIRECTORY, NOW)
    assert done.area == "centre"
    assert done.signal == "s2"
    ids = {
        suffix: [task_id(sit.id, pb.id, t.id, suffix) for t in pb.tasks]
        for suffix in ("", "@centre", "#s2")
    }
    assert [t.id for t in done.new] == (ids[new] if new is not None else [])
    assert done.told == (ids[told] if told is not None else [])
    for task in done.new:  # a new set answers the new signal, where it happened
        assert task.signals == ["s2"]
        assert task.areas == ["centre"]
        assert new is not None
        assert all(d in ids[new] for d in task.depends_on)
