"""What happens again reaches someone, and motivations stay apart, on the real broker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from concord.core.correlation import situation_id
from concord.core.planning import task_id
from concord.embedded.outbox import Outbox
from tests.conftest import Worker, make_signal, wait_until
from tests.integration.helpers import audit_entries, emails_for, slack_for, task_of
from tests.integration.test_tasks import task_state, wait_state

pytestmark = pytest.mark.integration

VANDALISM = "place-of-worship-vandalism"


def later(signal: dict[str, Any], minutes: int) -> str:
    return (
        datetime.fromisoformat(str(signal["occurred_at"])) + timedelta(minutes=minutes)
    ).isoformat()


def post(worker: Worker, tokens: dict[str, str], signal: dict[str, Any]) -> None:
    answer = worker.request("POST", "/api/signals", signal, token=tokens["producer"])
    assert answer.status == 202, answer.body


def test_vandalism_at_three_places_reaches_the_police_for_each(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    """The same antisemitic vandalism in the centre, then the north, then the south: one
    situation, and the police get a task for each place (the playbook says `per: area`),
    on their Slack channel, in their language; each repeat is audited."""
    centre = make_signal(category="vandalism", bias=["antisemitic"], severity=3, area="centre")
    north = make_signal(**{**centre, "id": centre["id"] + "-n", "area": "north"})
    north["occurred_at"] = later(centre, 5)
    south = make_signal(**{**centre, "id": centre["id"] + "-s", "area": "south"})
    south["occurred_at"] = later(centre, 10)
    sit = situation_id(str(centre["id"]), "centre")
    first = task_of(centre, VANDALISM, "police-report")
    post(worker, tokens, centre)
    wait_state(worker, tokens["coordinator"], first, "assigned")
    for signal in (north, south):
        post(worker, tokens, signal)
    tasks = {a: task_id(sit, VANDALISM, "police-report", f"@{a}") for a in ("north", "south")}
    names = {"north": "Quartier Nord", "south": "Zuidwijk"}
    for area, task in tasks.items():
        post_ = outbox.wait_for(lambda o, t=task: slack_for(o, t))[0]  # type: ignore[misc]
        assert post_.payload["channel"] == "C-POLICE"
        # The police liaison reads French; the task names its own place.
        assert f"Actez le vandalisme à {names[area]}" in str(post_.payload)
        shown = wait_state(worker, tokens["coordinator"], task, "assigned")
        assert shown["areas"] == [area]
        assert shown["situation_id"] == sit
    situation = worker.request("GET", f"/api/situations/{sit}", token=tokens["coordinator"]).body
    assert situation["areas"] == ["centre", "north", "south"]
    match = next(m for m in situation["matches"] if m["playbook"] == VANDALISM)
    assert match["status"] == "fired"
    assert match["repeats"] == [north["id"], south["id"]]
    repeated = wait_until(
        lambda: len(found := audit_entries(worker, sit, "playbook.repeated")) == 2 and found
    )
    assert {e.details["area"] for e in repeated} == {"north", "south"}
    assert all(e.details["created"] and not e.details["told"] for e in repeated)


def test_the_same_incident_again_tells_whoever_has_the_task(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    """A second harassment in the same area while victim support has the first: their
    task now answers both, and the liaison is told, in French, when and where."""
    first = make_signal(category="harassment", severity=2, area="south")
    again = make_signal(**{**first, "id": first["id"] + "-2"})
    again["occurred_at"] = later(first, 40)
    task = task_of(first, "victim-support-referral", "refer")
    post(worker, tokens, first)
    wait_state(worker, tokens["coordinator"], task, "assigned")
    post(worker, tokens, again)
    shown = wait_until(
        lambda: (
            again["id"] in (t := task_state(worker, tokens["coordinator"], task)).get("signals", [])
            and t
        )
    )
    assert shown["state"] == "assigned"
    notice = outbox.wait_for(lambda o: [m for m in emails_for(o, task) if "reproduit" in m.text])[0]
    assert notice.rcpt_to == ["accueil@victimes.concordia.example"]
    assert "Cela s'est reproduit : un nouveau signalement pour la tâche" in notice.text
    assert "Zuidwijk" in notice.text
    assert "Nouvel incident" in notice.headers["Subject"]
    assert "Test incident" not in notice.text  # no report text to a carrier
    told = wait_until(lambda: audit_entries(worker, task, "task.notice.repeat"))
    assert told[0].details["to"] == "vs-duty"


def test_an_antisemitic_and_an_anti_muslim_incident_in_one_area_are_two_situations(
    worker: Worker, tokens: dict[str, str]
) -> None:
    mosque = make_signal(category="vandalism", bias=["anti_muslim"], severity=3, area="north")
    synagogue = make_signal(**{**mosque, "id": mosque["id"] + "-b", "bias": ["antisemitic"]})
    synagogue["occurred_at"] = later(mosque, 30)
    post(worker, tokens, mosque)
    post(worker, tokens, synagogue)

    def home(signal: dict[str, Any]) -> str | None:
        for s in worker.request("GET", "/api/situations", token=tokens["coordinator"]).body:
            if any(r["id"] == signal["id"] for r in s["signals"]):
                return str(s["id"])
        return None

    first, second = wait_until(lambda: home(mosque)), wait_until(lambda: home(synagogue))
    assert first == situation_id(str(mosque["id"]), "north")
    assert second == situation_id(str(synagogue["id"]), "north") != first


def test_a_signal_joining_under_review_makes_a_new_version_and_stale_votes_are_refused(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    assault = make_signal(category="hate_crime", severity=4, area="centre")
    again = make_signal(**{**assault, "id": assault["id"] + "-2", "area": "south"})
    again["occurred_at"] = later(assault, 20)
    sit = situation_id(str(assault["id"]), "centre")
    member = panel_tokens["panel-researcher"]

    def review() -> dict[str, Any] | None:
        found = worker.request("GET", f"/api/reviews/{sit}", token=member)
        return found.body if found.status == 200 else None

    post(worker, tokens, assault)
    assert wait_until(review)["version"] == 1
    post(worker, tokens, again)
    second = wait_until(lambda: (r := review()) and r["version"] == 2 and r)
    assert second["outcome"] == "pending"
    assert second["versions"][-1]["changes"] == [
        f"signal {again['id']} joined: hate_crime in south, severity 4"
    ]
    stale = worker.request(
        "POST", f"/api/reviews/{sit}/votes", {"decision": "approve", "version": 1}, token=member
    )
    assert stale.status == 409, stale.body
    assert "vote on version 2" in str(stale.body), stale.body
    fresh = worker.request(
        "POST", f"/api/reviews/{sit}/votes", {"decision": "approve", "version": 2}, token=member
    )
    assert fresh.status == 202, fresh.body


def test_a_split_is_placed_where_its_signals_happened_and_plans_its_own_tasks(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    """Harassment in the centre, then in the north (it joins); the coordinator splits the
    north one off: it becomes a situation of the north, and victim support gets a task
    for it."""
    centre = make_signal(category="harassment", severity=2, area="centre")
    north = make_signal(**{**centre, "id": centre["id"] + "-n", "area": "north"})
    north["occurred_at"] = later(centre, 30)
    sid = situation_id(str(centre["id"]), "centre")
    first = task_of(centre, "victim-support-referral", "refer")
    post(worker, tokens, centre)
    wait_state(worker, tokens["coordinator"], first, "assigned")
    post(worker, tokens, north)
    coordinator = tokens["coordinator"]

    def situation(target: str) -> dict[str, Any] | None:
        found = worker.request("GET", f"/api/situations/{target}", token=coordinator)
        return found.body if found.status == 200 else None

    wait_until(lambda: (s := situation(sid)) and len(s["signals"]) == 2)
    asked = worker.request(
        "POST",
        f"/api/situations/{sid}/split",
        {"signals": [north["id"]], "reason": "another group"},
        token=coordinator,
    )
    assert asked.status == 202, asked.body
    split_id = situation_id(str(north["id"]), "centre")
    split = wait_until(lambda: situation(split_id))
    assert (split["area"], split["areas"], split["split_from"]) == ("north", ["north"], sid)
    assert [m["status"] for m in split["matches"]] == ["fired"]
    task = task_id(split_id, "victim-support-referral", "refer")
    mail = outbox.wait_for(lambda o: emails_for(o, task))[0]
    assert mail.rcpt_to == ["accueil@victimes.concordia.example"]
    assert "Quartier Nord" in mail.text
    kept = wait_until(lambda: (s := situation(sid)) and len(s["signals"]) == 1 and s)
    assert kept["areas"] == ["centre"]
