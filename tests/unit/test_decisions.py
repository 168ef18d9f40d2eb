"""Decisions (fire once, suppression, inhibition), planning details, examples, live reload."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from concord.core.correlation import AreaState
from concord.core.decisions import Rules
from concord.core.planning import plan_tasks
from concord.live import LivePlaybooks
from concord.playbooks.loader import load_playbooks
from concord.playbooks.matcher import Matcher
from concord.validate import check_playbooks
from tests.unit.factories import make_signal as signal
from tests.unit.factories import step_area
from tests.unit.test_language import DIRECTORY, MONDAY_NOON_UTC, at, playbook

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
    assert first is not None and second is not None and first.id == second.id
    assert first.matches == second.matches  # the decision of signal 1 is kept, not redone
    assert first.matches[0].revision == "abc123" and first.matches[0].version == 1
    # Two ngo reports of severity 3, an hour apart: (2.7 + 2.7 x 0.5 ** (1/72)) x 1.
    assert second.tension.level == "moderate" and 5.3 < second.tension.score < 5.4


def test_same_area_suppression_across_situations() -> None:
    pb = playbook("p", suppress={"same_area_for": "3d"})
    rules = Rules(Matcher([pb], DIRECTORY), DAY)
    states = run(
        rules,
        [{"occurred_at": at()}, {"occurred_at": at(days=2)}, {"occurred_at": at(days=4)}],
    )
    assert [statuses(s)["p"] for s in states] == ["fired", "suppressed", "fired"]
    second = states[1].situation
    assert second is not None and "quiet for 3d" in second.matches[0].reason
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
    assert a.agency == "equality" and a.assignee == "equality-duty"
    assert (a.title, a.action) == ("Inquiry", "In Zuidwijk")
    assert a.text("nl").action == "In Zuidwijk (nl)" and a.text("fr").title == "Inquiry"
    assert a.escalate_after == timedelta(hours=2) and a.escalate_to == ["coordinator"]
    assert a.fallback == "ngo-antiracism" and a.playbook_revision == "rev1"
    assert b.depends_on == [a.id] and b.release_on_decline


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_one_run_reports_schema_reference_and_example_problems(tmp_path: Path) -> None:
    write(
        tmp_path / "a.yml",
        "id: a\ntitle: A\nwhen:\n  areas: [mars]\n  colour: red\n"
        "tasks:\n  - {id: t, agency: nasa, title: T, action: x, due: soon}\n",
    )
    write(
        tmp_path / "b.yml",
        "id: b\ntitle: B\nwhen: {severity: {gte: 4}}\nreview: {quorum: 5, time_limit: 1h}\n"
        "tasks:\n  - {id: t, agency: police, title: T, action: x, escalate_to: [nobody]}\n",
    )
    write(
        tmp_path / "c.yml",
        "id: c\ntitle: C\nwhen: {severity: {gte: 4}}\n"
        "tasks:\n  - {id: t, agency: schools, title: T, action: x}\n"
        "examples:\n  - name: too mild\n    signals: [{severity: 2, category: vandalism}]\n    expect: fires\n"
        "  - name: bad signal\n    signals: [{severity: 9, category: vandalism}]\n    expect: fires\n",
    )
    result = check_playbooks([tmp_path], DIRECTORY)
    lines = [str(p).replace(f"{tmp_path}/", "") for p in result.problems]
    # a.yml: a schema error and two reference errors, reported together.
    assert "a.yml:4:11: unknown area or group 'mars'" in lines
    assert "a.yml:5:3: when.colour: unknown field 'colour'" in lines
    assert "a.yml:7:21: unknown agency 'nasa'" in lines
    assert any(x.startswith("a.yml:7:53: tasks.0.due: Value error, a duration") for x in lines)
    assert "b.yml:4:18: quorum 5 is more than the 3 panel members" in lines
    assert any(x.startswith("b.yml:6:64: unknown escalation target 'nobody'") for x in lines)
    assert (
        "c.yml:9:13: example 'too mild': no_match (severity 2 is below 4), expected fires" in lines
    )
    assert any(x.startswith("c.yml:11:26: examples.1.signals.0.severity:") for x in lines)
    assert [p.id for p in result.playbooks] == ["c"] and not result.ok


def test_missing_translation_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write(
        tmp_path / "p.yml",
        "id: p\ntitle: P\ntasks:\n  - {id: t, agency: police, title: T, action: {en: x, fr: y}}\n",
    )
    result = load_playbooks([tmp_path], DIRECTORY)
    assert result.ok
    assert [str(w).replace(f"{tmp_path}/", "") for w in result.warnings] == [
        "p.yml:4:47: warning: no nl text for police's liaisons; they get the English text"
    ]


def test_inhibition_references_and_cycles(tmp_path: Path) -> None:
    body = "title: X\ntasks:\n  - {{id: t, agency: police, title: T, action: x}}\n"
    write(tmp_path / "a.yml", "id: a\nsuppress: {inhibits: [b]}\n" + body.format())
    write(tmp_path / "b.yml", "id: b\nsuppress: {inhibits: [a, zz]}\n" + body.format())
    lines = [
        str(p).replace(f"{tmp_path}/", "") for p in load_playbooks([tmp_path], DIRECTORY).problems
    ]
    assert "b.yml:2:26: unknown playbook 'zz'" in lines
    assert "a.yml:2:22: inhibition cycle: a -> b -> a" in lines


def test_live_reload_applies_a_valid_change_and_keeps_the_last_good_set(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yml",
        "id: p\ntitle: P\ntasks:\n  - {id: t, agency: police, title: T, action: x}\n",
    )
    live = LivePlaybooks(tmp_path, DIRECTORY, DAY)
    assert live.reload().ok and live.poll().outcome == "unchanged"
    first_revision = live.rules.revisions["p"]
    write(path, path.read_text().replace("title: P", "version: 2\ntitle: P2"))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert live.poll().outcome == "applied"
    assert live.matcher.by_id["p"].version == 2 and live.rules.revisions["p"] != first_revision
    assert live.get("p", 1) is not None and live.get("p", 1).title == "P"  # type: ignore[union-attr]
    write(tmp_path / "bad.yml", "id: bad\ntitle: B\ntasks: []\n")
    refused = live.poll()
    assert refused.outcome == "refused" and "bad.yml:3:8" in refused.problems[0]
    assert list(live.matcher.by_id) == ["p"] and live.matcher.by_id["p"].version == 2
    (tmp_path / "bad.yml").unlink()
    assert live.poll().outcome == "unchanged"  # back to the set in force
