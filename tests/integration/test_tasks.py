"""Liaisons and their tasks on the real broker, SMTP server and Slack API server."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from concord.core.correlation import situation_id
from concord.embedded.outbox import Outbox
from tests.conftest import Worker, approve, make_signal, wait_until
from tests.integration.helpers import emails_for, slack_for, task_of
from tests.integration.test_review import slack_request

pytestmark = pytest.mark.integration


def task_state(worker: Worker, token: str, task: str) -> dict[str, Any]:
    tasks = worker.request("GET", "/api/tasks", token=token).body
    return next((x for x in tasks if x["id"] == task), {})


def wait_state(worker: Worker, token: str, task: str, state: str) -> dict[str, Any]:
    return wait_until(  # type: ignore[no-any-return]
        lambda: (x := task_state(worker, token, task)).get("state") == state and x, timeout=30
    )


def assault(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], area: str = "north"
) -> dict[str, Any]:
    signal = make_signal(category="hate_crime", severity=4, area=area)
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    approve(worker, panel_tokens, situation_id(str(signal["id"]), area))
    return signal


def test_slack_ack_updates_the_message_and_done_releases_the_dependent(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = assault(worker, tokens, panel_tokens)
    protect = task_of(signal, "racist-assault", "protect")
    watch = task_of(signal, "racist-assault", "schools-watch")
    coordinator = tokens["coordinator"]
    outbox.wait_for(lambda o: slack_for(o, protect))
    wait_state(worker, coordinator, protect, "assigned")
    assert task_state(worker, coordinator, watch)["state"] == "pending"

    button = {"action_id": "task.ack", "value": protect}
    payload = {"type": "block_actions", "user": {"id": "U-CLAIRE"}, "actions": [button]}
    assert slack_request(worker, payload, secret="forged")[0] == 401
    assert task_state(worker, coordinator, protect)["state"] == "assigned"
    status, reply = slack_request(worker, {**payload, "user": {"id": "U-STRANGER"}})
    assert status == 200
    # Someone the directory does not know is answered in the city's first language.
    assert "n'est pas celui d'un correspondant" in reply["text"]
    status, reply = slack_request(worker, payload)
    assert status == 200, reply
    assert reply["text"] == "Enregistré : prise en charge.", reply  # Claire reads French
    wait_state(worker, coordinator, protect, "acknowledged")
    # The original Slack message now shows who acknowledged it.
    updated = outbox.wait_for(
        lambda o: [
            u for u in o.slack(method="chat.update") if protect in str(u.payload.get("blocks"))
        ]
    )
    # In the liaison's language, naming who acted (never their id).
    assert "prise en charge (Insp. Claire Martin)" in str(updated[-1].payload["text"])
    # In Claire's language, like the message it replaces.
    assert "Protéger la victime" in str(updated[-1].payload["text"])
    # A second click (its own request: a replayed one is ignored) is refused with the reason.
    again = {**payload, "actions": [{**button, "action_ts": f"{time.time():.6f}"}]}
    status, reply = slack_request(worker, again)
    assert "is acknowledged: it cannot be acknowledged" in reply["text"]

    r = worker.request("POST", f"/api/tasks/{watch}/ack", {}, token=coordinator)
    assert r.status == 409
    assert f"the task is pending: it waits for {protect}" in r.body["error"]
    # The dependent task goes out once its prerequisite is done (through the API).
    liaison = tokens["liaison"]  # police
    r = worker.request("POST", f"/api/tasks/{protect}/done", {}, token=liaison)
    assert r.status == 202, r.body
    mail = outbox.wait_for(lambda o: emails_for(o, watch))
    assert mail[0].rcpt_to == ["duty@schools.concordia.example"]
    wait_state(worker, coordinator, watch, "assigned")
    # Not their agency's task: answered like an unknown one (naming nobody); an unknown
    # action; a done task.
    other = worker.request("POST", f"/api/tasks/{watch}/ack", {}, token=liaison)
    assert other.status == 404
    assert other.body == {"error": "no such task"}
    assert worker.request("POST", f"/api/tasks/{protect}/fly", {}, token=liaison).status == 404
    r = worker.request("POST", f"/api/tasks/{protect}/ack", {}, token=liaison)
    assert r.status == 409
    assert "is done" in r.body["error"]
    # A coordinator gives the school watch to the youth service instead.
    body = {"assignee": "youth-duty", "reason": "holidays: schools are closed"}
    assert worker.request("POST", f"/api/tasks/{watch}/reassign", body, token=liaison).status == 404
    own = worker.request("POST", f"/api/tasks/{protect}/reassign", body, token=liaison)
    assert own.status == 403
    assert "only coordinators" in own.body["error"]
    r = worker.request(
        "POST", f"/api/tasks/{watch}/reassign", {"assignee": "nobody"}, token=coordinator
    )
    assert r.status == 422
    assert r.body["errors"][0]["loc"] == "assignee"
    assert (
        worker.request("POST", f"/api/tasks/{watch}/reassign", body, token=coordinator).status
        == 202
    )
    moved = wait_state(worker, coordinator, watch, "reassigned")
    assert (moved["agency"], moved["assignee"]) == ("youth", "youth-duty")
    outbox.wait_for(
        lambda o: [m for m in emails_for(o, watch) if m.rcpt_to == ["duty@jeugd.concordia.example"]]
    )


def test_email_link_acknowledges_and_a_decline_reaches_the_fallback(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = assault(worker, tokens, panel_tokens, area="south")
    support = task_of(signal, "racist-assault", "support")
    coordinator = tokens["coordinator"]
    mail = outbox.wait_for(lambda o: emails_for(o, support))[0]
    found = re.search(r"Prendre en charge : https://concord\.city\.example(/t/\S+)", mail.text)
    assert found is not None, mail.text
    wait_state(worker, coordinator, support, "assigned")
    page = worker.request("GET", found.group(1))
    assert page.status == 200
    assert "Rien ne se passe tant que vous ne confirmez pas" in page.body
    assert task_state(worker, coordinator, support)["state"] == "assigned"  # GET changed nothing
    assert worker.request("POST", found.group(1), raw=b"").status == 202
    wait_state(worker, coordinator, support, "acknowledged")
    again = worker.request("GET", found.group(1))
    assert again.status == 409
    assert "Ce lien ne peut plus être utilisé" in again.body

    # Victim support declines (with a reason): the fallback NGO gets it, the coordinator hears.
    made = worker.cli(
        "token", "create", "vs-duty", "--role", "liaison", "--agency", "victim-support"
    )
    vs = made.stdout.decode().strip()
    wait_until(lambda: worker.request("GET", "/api/tasks", token=vs).status == 200)
    r = worker.request("POST", f"/api/tasks/{support}/decline", {}, token=vs)
    assert r.status == 422
    assert r.body["errors"][0]["loc"] == "reason"
    r = worker.request(
        "POST",
        f"/api/tasks/{support}/decline",
        {"reason": "no counsellor free this week"},
        token=vs,
    )
    assert r.status == 202, r.body
    moved = wait_state(worker, coordinator, support, "reassigned")
    assert (moved["agency"], moved["assignee"]) == ("ngo-antiracism", "ngo-duty")
    outbox.wait_for(lambda o: [c for c in slack_for(o, support) if c.payload["channel"] == "C-NGO"])
    notice = outbox.wait_for(
        lambda o: [
            m
            for m in o.emails()
            if m.rcpt_to == ["coordination@concordia.example"]
            and "refusée" in m.subject
            and support in m.text
        ]
    )
    assert "no counsellor free this week" in notice[0].text


ESCALATION_PLAYBOOK = """
id: escalation-test
version: 1
title: Escalation test
when:
  kind: [tension]
  category: [other]
  tags: [escalation-test]
tasks:
  - id: patrol
    agency: police
    title: Patrol
    action: Patrol {{ area.name }}.
    escalate_after: 2s
    escalate_to: [coordinator]
"""


def test_an_unacknowledged_task_escalates_along_the_chain(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    path = worker.data_dir / "playbooks" / "escalation-test.yml"
    path.write_text(ESCALATION_PLAYBOOK)
    wait_until(
        lambda: "escalation-test" in worker.request("GET", "/healthz").body["playbook_versions"]
    )
    try:
        signal = make_signal(
            kind="tension", category="other", severity=2, area="centre", tags=["escalation-test"]
        )
        assert (
            worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
        )
        task = task_of(signal, "escalation-test", "patrol")
        outbox.wait_for(lambda o: slack_for(o, task))  # police-duty, on Slack
        chief = outbox.wait_for(
            lambda o: [
                m for m in emails_for(o, task) if m.rcpt_to == ["chief@police.concordia.example"]
            ],
            timeout=30,
        )
        assert "Beste Comm. Jan Peeters" in chief[0].text  # Dutch, the chief's language
        outbox.wait_for(
            lambda o: [
                m for m in emails_for(o, task) if m.rcpt_to == ["coordination@concordia.example"]
            ],
            timeout=30,
        )
        body = wait_until(
            lambda: (
                (x := task_state(worker, tokens["coordinator"], task)).get("assignee") == "coord"
                and x
            )
        )
        assert body["state"] == "escalated"
    finally:
        path.unlink()


def test_slack_decline_asks_for_the_reason_in_a_modal(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = assault(worker, tokens, panel_tokens, area="centre")
    protect = task_of(signal, "racist-assault", "protect")
    coordinator = tokens["coordinator"]
    wait_state(worker, coordinator, protect, "assigned")
    button = {"action_id": "task.decline", "value": protect}
    click = {
        "type": "block_actions",
        "user": {"id": "U-CLAIRE"},
        "trigger_id": "T-1",
        "actions": [button],
    }
    assert slack_request(worker, click)[0] == 200
    modal = outbox.wait_for(
        lambda o: [
            v
            for v in o.slack(method="views.open")
            if v.payload["view"]["private_metadata"] == protect
        ]
    )[0].payload["view"]
    assert modal["callback_id"] == "task.decline"

    def submit(reason: str) -> Any:
        values = {"reason": {"text": {"type": "plain_text_input", "value": reason}}}
        view = {**modal, "state": {"values": values}}
        return slack_request(
            worker, {"type": "view_submission", "user": {"id": "U-CLAIRE"}, "view": view}
        )

    status, body = submit("  ")
    assert status == 200
    assert body["response_action"] == "errors"
    assert "needs a reason" in body["errors"]["reason"]
    status, body = submit("the victim asked us not to intervene")
    assert status == 200
    assert body == {}
    declined = wait_state(worker, coordinator, protect, "declined")
    assert declined["assignee"] == "police-duty"  # no fallback for this task


def test_escalation_survives_a_worker_restart(
    smtp_server: Any, slack_server: Any, outbox: Outbox, tmp_path: Any
) -> None:
    from tests.conftest import private_worker, restart

    playbook = ESCALATION_PLAYBOOK.replace("escalate_after: 2s", "escalate_after: 15s")
    with private_worker(
        smtp_server, slack_server, tmp_path / "restart", {"escalation-test.yml": playbook}
    ) as (w, producer):
        signal = make_signal(
            kind="tension", category="other", severity=2, area="north", tags=["escalation-test"]
        )
        assert w.request("POST", "/api/signals", signal, token=producer).status == 202
        task = task_of(signal, "escalation-test", "patrol")
        outbox.wait_for(lambda o: slack_for(o, task))  # assigned: the clock runs
        restart(w)  # the deadline lives only in the tasks table's changelog now
        chief = outbox.wait_for(
            lambda o: [
                m for m in emails_for(o, task) if m.rcpt_to == ["chief@police.concordia.example"]
            ],
            timeout=60,
        )
        assert len(chief) == 1
        assert len(slack_for(outbox, task)) == 1
