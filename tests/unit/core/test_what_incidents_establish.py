"""A playbook fires on what one report establishes, and its tasks answer that report:
where it happened, and whose persons they may show (issue #10's correctness findings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from concord.dryrun.flow import Simulator, Step
from concord.playbooks.loader import load_playbooks
from concord.streams.signals import SignalIn
from tests.unit.factories import DIRECTORY

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = load_playbooks([ROOT / "playbooks"], DIRECTORY)
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)


def feed(sim: Simulator, minutes: int, **kw: Any) -> Step:
    base: dict[str, Any] = {
        "id": f"s{minutes}",
        "kind": "incident",
        "category": "hate_crime",
        "severity": 3,
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "area": "north",
        "source": {"type": "ngo", "name": "N"},
        "summary": "report",
    }
    base.update(kw)
    step = sim.feed(SignalIn.model_validate(base), T0 + timedelta(minutes=minutes))
    assert step is not None
    return step


def fired(step: Step) -> dict[str, list[str]]:
    return {m.playbook: m.signals for m in step.situation.matches if m.status == "fired"}


def test_a_tension_signal_lends_no_severity_to_an_incident() -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    feed(sim, 0, category="harassment", severity=2)
    step = feed(sim, 30, kind="tension", category="other", severity=5)
    assert len(step.situation.signals) == 2  # one situation
    assert step.situation.severity == 2  # the incident's, not the rumour's
    assert "racist-assault" not in fired(step)  # needs an incident of severity >= 3
    assert step.situation.tension.score > 0  # the tension signal counts as tension


def test_the_severity_is_the_incidents_and_tension_alone_sets_it_until_one_comes() -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    assert feed(sim, 0, kind="tension", category="rumour", severity=4).situation.severity == 4
    assert feed(sim, 10, category="hate_crime", severity=2).situation.severity == 2
    assert feed(sim, 20, category="harassment", severity=3).situation.severity == 3


def test_conditions_hold_for_one_report_not_for_the_union_of_several() -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    # A minor assault, then a serious vandalism: neither is a serious assault.
    feed(sim, 0, category="hate_crime", severity=2)
    step = feed(sim, 5, category="vandalism", severity=4, bias=["other"])
    assert step.situation.severity == 4
    assert "hate_crime" in step.situation.categories
    assert "racist-assault" not in fired(step)


def test_a_task_names_where_its_incident_happened_not_the_situation_it_joined() -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    assault = feed(sim, 0, area="north", severity=4)
    vandalism = feed(sim, 30, id="v", area="centre", category="vandalism", bias=["antisemitic"])
    assert vandalism.situation.id == assault.situation.id  # centre neighbours north
    assert fired(vandalism)["place-of-worship-vandalism"] == ["v"]
    police = {t.task_key: t for t in vandalism.tasks["place-of-worship-vandalism"]}
    task = police["police-report"]
    assert (task.area, task.areas, task.signals) == ("centre", ["centre"], ["v"])
    assert "Centre-ville" in task.action
    assert "Quartier Nord" not in task.action
    assert "Centre-ville" in task.translations["fr"].action


def test_a_task_answers_only_the_reports_its_playbook_fired_on() -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    assault = feed(sim, 0, id="assault", area="north", severity=4)
    support = {t.task_key: t for t in assault.tasks["racist-assault"]}["support"]
    # Victim support (sharing: full) answers the assault: its persons, nobody else's.
    assert support.signals == ["assault"]
    later = feed(sim, 30, id="v", area="centre", category="vandalism", bias=["antisemitic"])
    assert {m.playbook: m.signals for m in later.situation.matches}["racist-assault"] == ["assault"]
