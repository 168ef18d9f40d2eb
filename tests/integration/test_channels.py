"""The new channels end to end on the real broker: the example directory sends the
equality desk its tasks on Teams and the housing department on Matrix, and two systems
follow situations and tasks through webhooks (CloudEvents, and CAP 1.2 alerts).

The worker's stand-in (`concord.embedded.standin`) answers like Workflows, a homeserver
and the subscribers, and refuses what they would refuse.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from concord.core import cap
from concord.embedded.outbox import CapturedPost, Outbox
from tests.conftest import Worker, make_signal, wait_until
from tests.integration.helpers import audit_entries, task_of

pytestmark = pytest.mark.integration

XSD = xmlschema.XMLSchema(Path(cap.__file__).parent / "schemas" / "CAP-v1.2.xsd")
PLAYBOOK = "housing-discrimination-pattern"


def posts(outbox: Outbox, channel: str, containing: str) -> list[CapturedPost]:
    return [p for p in outbox.posts(channel) if containing in json.dumps(p.payload)]


def task_state(worker: Worker, token: str, task: str) -> str:
    tasks = worker.request("GET", "/api/tasks", token=token).body
    return str(next((x["state"] for x in tasks if x["id"] == task), ""))


def reports_against_one_provider(worker: Worker, producer: str) -> dict[str, Any]:
    """Three discrimination reports against one housing provider: the pattern fires."""
    provider = f"provider-{uuid.uuid4().hex[:8]}"
    last: dict[str, Any] = {}
    for severity in (2, 2, 3):
        last = make_signal(
            category="discrimination", bias=["anti_migrant"], severity=severity,
            area="south", tags=["housing", provider],
        )  # fmt: skip
        assert worker.request("POST", "/api/signals", last, token=producer).status == 202
    return last


def test_teams_matrix_and_webhooks_from_a_report_to_done(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    coordinator = tokens["coordinator"]
    signal = reports_against_one_provider(worker, tokens["producer"])
    inquiry = task_of(signal, PLAYBOOK, "equality-inquiry")
    meet = task_of(signal, PLAYBOOK, "meet-provider")

    # Teams: the equality desk's Workflows webhook gets an Adaptive Card, in Dutch.
    card = outbox.wait_for(lambda o: posts(o, "teams", inquiry), timeout=60)[0]
    assert card.problems == []  # the stand-in checked the Workflows envelope
    content = card.payload["attachments"][0]["content"]
    assert "Een onderzoek naar de verhuurder openen" in json.dumps(content, ensure_ascii=False)
    actions = {a["title"]: a["url"] for a in content["actions"]}
    assert set(actions) >= {"Bevestigen", "Weigeren", "Klaar"}

    # Its buttons are the signed links: a GET asks to confirm and changes nothing.
    ack = re.sub(r"^https://concord\.city\.example", "", actions["Bevestigen"])
    assert ack.startswith("/t/")
    # Delivered: the task is the liaison's from now on (its escalation clock runs).
    wait_until(lambda: task_state(worker, coordinator, inquiry) == "assigned", timeout=30)
    page = worker.request("GET", ack)
    assert page.status == 200
    assert task_state(worker, coordinator, inquiry) == "assigned"
    assert worker.request("POST", ack, raw=b"").status == 202
    wait_until(lambda: task_state(worker, coordinator, inquiry) == "acknowledged", timeout=30)
    done = re.sub(r"^https://concord\.city\.example", "", actions["Klaar"])
    assert worker.request("POST", done, raw=b"").status == 202

    # Matrix: the task it waited for is done, so housing's room gets its task, in French,
    # with the message key as the transaction id and no mention.
    room = outbox.wait_for(lambda o: posts(o, "matrix", meet), timeout=60)[0]
    assert room.target == "!logement-concordia.example:concord.local"  # the alias, resolved
    assert room.key.startswith(f"{meet}.")
    assert room.payload["m.mentions"] == {}
    assert "Rencontrer le bailleur" in room.payload["body"]
    assert "Rencontrer le bailleur" in room.payload["formatted_body"]

    # The case system followed it all: signed CloudEvents, each once, in order per subject.
    def told(o: Outbox) -> list[str]:
        mine = [p for p in o.posts("webhook") if p.target == "case-system"]
        return [
            p.payload["type"] for p in mine
            if isinstance(p.payload, dict) and p.payload.get("subject") == inquiry
        ]  # fmt: skip

    wanted = ["org.concord.task.created", "org.concord.task.acknowledged", "org.concord.task.done"]
    assert outbox.wait_for(lambda o: told(o) == wanted and told(o), timeout=60) == wanted
    for post in (p for p in outbox.posts("webhook") if p.target == "case-system"):
        assert post.problems == []  # signature verified with the reference library
        assert post.headers["webhook-id"].startswith(str(post.payload["id"]))
        assert "Test NGO" not in json.dumps(post.payload)  # no person, no report's text

    # Civil protection got the situation as a CAP 1.2 alert, valid against the OASIS XSD.
    alerts = outbox.wait_for(
        lambda o: [p for p in o.posts("webhook") if p.target == "civil-protection"], timeout=60
    )
    for alert in alerts:
        XSD.validate(alert.payload)
    assert any("<msgType>Alert</msgType>" in a.payload for a in alerts)


def test_a_situation_as_a_cap_alert_is_valid_and_audited(
    worker: Worker, tokens: dict[str, str]
) -> None:
    signal = make_signal(category="hate_speech", severity=3, area="centre", exercise=True)
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    coordinator = tokens["coordinator"]

    def situation() -> str:
        found = worker.request("GET", "/api/situations", token=coordinator).body
        ids = [s["id"] for s in found if signal["id"] in [x["id"] for x in s["signals"]]]
        return ids[0] if ids else ""

    sid = wait_until(situation, timeout=30)
    r = worker.request("GET", f"/api/situations/{sid}/cap", token=coordinator)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/cap+xml")
    XSD.validate(r.body)
    assert "<status>Exercise</status>" in r.body
    assert "<areaDesc>Centre-ville</areaDesc>" in r.body
    assert "<circle>50.8466,4.3528 1.0</circle>" in r.body
    viewed = wait_until(lambda: audit_entries(worker, sid, "situation.cap_viewed"), timeout=30)
    assert viewed[0].actor == "test-coordinator"
    assert worker.request("GET", f"/api/situations/{sid}/cap").status == 401
    assert worker.request("GET", "/api/situations/nope/cap", token=coordinator).status == 404
