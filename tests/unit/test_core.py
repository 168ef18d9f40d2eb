"""Pure domain functions: intake, sealing, redaction, correlation, planning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from concord.core import intake
from concord.core.correlation import area_key, correlate, situation_id
from concord.core.planning import plan_tasks
from concord.core.redaction import scrub
from concord.core.refusal import Refused
from concord.directory import load_directory
from concord.keys import Sealer, SealError
from concord.playbooks.loader import load_playbooks
from concord.streams.signals import Person
from concord.text import slack_escape
from tests.unit.factories import make_signal as signal

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = load_directory(ROOT / "directory.yml")
NOW = datetime(2026, 1, 1, 13, tzinfo=UTC)


def sealer() -> Sealer:
    return Sealer(SecretStr(Fernet.generate_key().decode()))


def raw_signal(**kw: object) -> bytes:
    base = {
        "id": "x1",
        "kind": "incident",
        "category": "hate_crime",
        "severity": 3,
        "occurred_at": "2026-01-01T12:00:00Z",
        "area": "north",
        "source": {"type": "ngo", "name": "N"},
        "summary": "Omar Haddad was hit.",
    }
    base.update(kw)
    return json.dumps(base).encode()


def test_parse_refuses_with_reasons() -> None:
    assert intake.parse(b"\xff", DIRECTORY).reason == "not JSON"  # type: ignore[union-attr]
    refused = intake.parse(raw_signal(severity=6, extra=1), DIRECTORY)
    assert isinstance(refused, Refused) and refused.reason == "invalid signal"
    assert {e["loc"] for e in refused.errors} == {"severity", "extra"}
    unknown = intake.parse(raw_signal(area="mars"), DIRECTORY)
    assert isinstance(unknown, Refused) and unknown.reason == "unknown area"
    naive = intake.parse(raw_signal(occurred_at="2026-01-01T12:00:00"), DIRECTORY)
    assert isinstance(naive, Refused) and naive.errors[0]["loc"] == "occurred_at"


def test_seal_keeps_persons_encrypted_and_scrubs_summary() -> None:
    s = sealer()
    parsed = intake.parse(
        raw_signal(
            persons=[
                {
                    "role": "victim",
                    "name": "Omar Haddad",
                    "contact": "+32 1",
                    "consent_to_share": True,
                }
            ]
        ),
        DIRECTORY,
    )
    assert not isinstance(parsed, Refused)
    out = intake.seal(parsed, s, NOW)
    assert out.summary == "[victim] was hit."
    assert out.person_count == 1 and out.person_roles == ["victim"]
    assert "Omar" not in out.model_dump_json()
    opened = json.loads(s.open(out.persons_sealed or ""))
    assert opened["persons"][0]["name"] == "Omar Haddad"
    assert opened["summary"] == "Omar Haddad was hit."
    with pytest.raises(SealError):
        sealer().open(out.persons_sealed or "")
    assert "key" not in repr(s).replace("key hidden", "")


def test_scrub_names_parts_and_contacts() -> None:
    people = [
        Person(role="witness", name="Marie-Claire Dubois", contact="mcd@example.org"),
        Person(role="victim", name="Al Li"),
    ]
    text = "Marie-Claire Dubois (mcd@example.org) saw it; DUBOIS called. Al Li, Albert's friend."
    out = scrub(text, people)
    assert "Dubois" not in out and "DUBOIS" not in out and "mcd@" not in out
    assert "[victim]" in out
    assert "Albert" in out  # short name parts ("Al") never blank other words


def test_slack_escape_stops_mentions_and_links() -> None:
    out = slack_escape("<!channel> @here <https://evil|click> & more")
    assert "<" not in out and ">" not in out
    assert "&lt;!channel&gt;" in out and "@here" not in out and "&amp;" in out


def test_correlation_groups_within_window_and_keeps_drills_apart() -> None:
    window = timedelta(hours=24)
    first = correlate(None, signal(id="a", severity=2), window, NOW)
    assert first.id == situation_id("a", "north") and first.severity == 2
    second = correlate(
        first,
        signal(
            id="b",
            category="rumour",
            kind="tension",
            severity=4,
            occurred_at=datetime(2026, 1, 2, 6, tzinfo=UTC),
        ),
        window,
        NOW,
    )
    assert second.id == first.id and [r.id for r in second.signals] == ["a", "b"]
    # A tension signal adds its category, never its severity (that is the incidents').
    assert second.severity == 2 and second.categories == ["hate_crime", "rumour"]
    assert correlate(second, signal(id="b"), window, NOW) is second  # same id: no change
    later = correlate(
        second, signal(id="c", occurred_at=datetime(2026, 1, 5, tzinfo=UTC)), window, NOW
    )
    assert later.id != first.id and len(later.signals) == 1
    drill = signal(id="d", exercise=True)
    assert area_key(drill.area, drill.exercise) != area_key("north", False)


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
    assert by_key["protect"].assignee == "police-duty" and by_key["protect"].urgent
    assert by_key["protect"].due == NOW + timedelta(hours=2)
    assert "Quartier Nord" in by_key["protect"].action and "4/5" in by_key["protect"].action
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
    assert exc.value.playbook_id == "broken" and "street" in exc.value.reason
