"""Personal data on the task page and API: sharing level x consent x task state, audited."""

from __future__ import annotations

from typing import Any

import pytest

from concord.core.correlation import situation_id
from concord.embedded.outbox import Outbox
from tests.conftest import Worker, approve, make_signal, wait_until
from tests.integration.helpers import (
    WebClient,
    audit_entries,
    emails_for,
    sign_in_link,
    sign_in_mails,
    slack_for,
    task_of,
)
from tests.integration.test_tasks import wait_state

pytestmark = pytest.mark.integration

VICTIM = {
    "role": "victim",
    "name": "Amina Benali",
    "contact": "+32 470 12 34 56",
    "consent_to_share": True,
}
WITNESS = {"role": "witness", "name": "Tom Verbeke", "contact": "tom.verbeke@example.org"}


def liaison_token(worker: Worker, name: str, agency: str) -> str:
    made = worker.cli("token", "create", name, "--role", "liaison", "--agency", agency)
    assert made.returncode == 0, made.stderr.decode()
    token = made.stdout.decode().strip()
    wait_until(lambda: worker.request("GET", "/api/tasks", token=token).status == 200)
    return token


def signed_in(worker: Worker, outbox: Outbox, email: str, next_: str) -> tuple[WebClient, str]:
    """A client holding the session cookie of `email`'s emailed sign-in link, and the page
    the link led to (`next_`)."""
    client = WebClient(worker.base)
    landed, page = client.sign_in(outbox, email, next_)
    assert landed == next_, landed
    return client, page


def persons(worker: Worker, token: str, task: str) -> Any:
    return worker.request("GET", f"/api/tasks/{task}/persons", token=token)


def test_persons_are_shown_per_sharing_level_and_consent_only_while_the_task_is_open(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = make_signal(
        category="hate_crime",
        severity=4,
        area="centre",
        summary="Amina Benali was pushed and insulted at the tram stop; Tom Verbeke saw it.",
        persons=[VICTIM, WITNESS],
    )
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    protect = task_of(signal, "racist-assault", "protect")
    support = task_of(signal, "racist-assault", "support")
    police, coordinator = tokens["liaison"], tokens["coordinator"]

    # Held for the panel: nobody sees anyone yet, the analysis is not validated.
    wait_state(worker, coordinator, protect, "pending")
    r = persons(worker, police, protect)
    assert r.status == 409
    assert "pending" in r.body["error"]

    approve(worker, panel_tokens, situation_id(str(signal["id"]), "centre"))
    wait_state(worker, coordinator, protect, "assigned")

    # Police (sharing: consented): the victim who consented, the witness's role only.
    r = persons(worker, police, protect)
    assert r.status == 200, r.body
    assert r.body["sharing"] == "consented", r.body
    assert r.headers["Cache-Control"] == "no-store"
    [report] = r.body["signals"]
    assert report["signal_id"] == signal["id"]
    assert report["withheld"] == 1
    assert report["persons"] == [
        {
            "role": "victim",
            "name": "Amina Benali",
            "contact": "+32 470 12 34 56",
            "consented": True,
        },
        {"role": "witness", "name": None, "contact": None, "consented": False},
    ]
    assert report["summary"] is None

    # Victim support (sharing: full) on its own task: everyone, and the report as written.
    wait_state(worker, coordinator, support, "assigned")
    vs = liaison_token(worker, "vs-duty", "victim-support")
    full = persons(worker, vs, support).body["signals"][0]
    assert [p["name"] for p in full["persons"]] == ["Amina Benali", "Tom Verbeke"]
    assert full["summary"].startswith("Amina Benali was pushed")
    # ...but not on the police's task, and the schools not at all.
    assert persons(worker, vs, protect).status == 404
    schools = liaison_token(worker, "schools-duty", "schools")
    assert persons(worker, schools, protect).status == 404
    # Victim support signed in on the web: not even a forged form on the police's task
    # page shows it (the error page once rendered the task, people and all).
    client, own = signed_in(
        worker, outbox, "accueil@victimes.concordia.example", f"/tasks/{support}"
    )
    assert "Tom Verbeke" in own  # her own task: full sharing
    # A liaison has no review queue: a clear 403 (this page once failed with a 500).
    status, _, queue = client.open("/review")
    assert status == 403
    assert "Vos tâches vous parviennent" in queue
    status, _, page = client.open(f"/tasks/{protect}", {"csrf": "forged", "action": "ack"})
    assert status == 404
    assert "Aucune tâche de ce nom pour vous" in page
    assert "Amina" not in page
    assert "Secure" not in page
    # Coordinators see who was involved, not who they are.
    roles = persons(worker, coordinator, protect).body
    assert roles["sharing"] == "roles"
    assert {p["name"] for p in roles["signals"][0]["persons"]} == {None}
    assert persons(worker, tokens["producer"], protect).status == 404
    assert persons(worker, "cnc_nope", protect).status == 401

    # Every view is on the audit log: who, which task, which level, how many names.
    seen = wait_until(
        lambda: len(entries := audit_entries(worker, protect, "persons.viewed")) >= 2 and entries
    )
    assert {(e.actor, e.details["sharing"], e.details["names_shown"]) for e in seen} >= {
        ("police-duty", "consented", "1"),
        ("test-coordinator", "roles", "0"),
    }

    # Neither the Slack message nor any email carried a name or a contact.
    sent: list[object] = [m.payload for m in outbox.wait_for(lambda o: slack_for(o, protect))]
    sent += [m.text + m.html for m in outbox.wait_for(lambda o: emails_for(o, support))]
    for text in map(str, sent):
        assert "Amina" not in text
        assert "Verbeke" not in text
        assert "+32 470" not in text

    # Done: the need to know ends with the task.
    assert worker.request("POST", f"/api/tasks/{protect}/done", {}, token=police).status == 202
    wait_state(worker, coordinator, protect, "done")
    r = persons(worker, police, protect)
    assert r.status == 409
    assert "done" in r.body["error"]


def test_the_task_page_shows_the_consenting_victim_to_the_police_in_a_browser(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    from tests.browser import chromium_page

    signal = make_signal(category="hate_crime", severity=4, area="south", persons=[VICTIM, WITNESS])
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    approve(worker, panel_tokens, situation_id(str(signal["id"]), "south"))
    protect = task_of(signal, "racist-assault", "protect")
    wait_state(worker, tokens["coordinator"], protect, "assigned")
    with chromium_page() as page:
        email = "duty@police.concordia.example"
        before = len(sign_in_mails(outbox, email))
        page.goto(worker.base + f"/tasks/{protect}")
        page.fill("input[name=email]", email)
        page.click("button[type=submit]")

        # The emailed link asks first (a mail scanner following it signs nobody in).
        page.goto(worker.base + sign_in_link(outbox, email, before))
        with page.expect_navigation() as landed:
            page.click("#sign-in")
        response = landed.value
        assert page.url.endswith(f"/tasks/{protect}")
        wait_until(lambda: audit_entries(worker, "police-duty", "session.signed_in"))
        assert response is not None
        assert response.headers["cache-control"] == "no-store"
        section = page.inner_text("#persons")
        # Claire (police) reads French.
        assert "avec consentement" in section
        assert "consignée dans le journal d'audit" in section
        assert "Amina Benali" in section
        assert "+32 470 12 34 56" in section
        assert "Tom Verbeke" not in section
        assert "masqué" in section
        # Acknowledging keeps the data visible; done takes it away.
        page.click("#act button[value=ack]")
        assert "Enregistré : prise en charge." in page.inner_text("[role=status]")
        assert "Amina Benali" in page.inner_text("#persons")
        page.click("#act button[value=done]")
        assert "Enregistré : terminée." in page.inner_text("[role=status]")  # Claire: fr

        def withdrawn() -> bool:
            page.reload()  # the page reads the board, which follows the track stage
            return "is done: personal data is shown only while" in page.inner_text("#persons")

        wait_until(withdrawn)
        assert "Amina Benali" not in page.inner_text("#persons")
