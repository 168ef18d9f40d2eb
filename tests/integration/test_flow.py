"""End to end on a real broker: HTTP in, email and Slack out, dead letters, duplicates."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, KafkaProducer

from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.streams.audit import DeadLetter
from tests.conftest import Worker, approve, make_signal, wait_until
from tests.integration.helpers import emails_for, panel_notices, slack_for, task_of, unsealer

pytestmark = pytest.mark.integration


def test_signal_to_email_and_slack(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = make_signal(
        summary="Amina Diallo was insulted and pushed at the tram stop by two adults.",
        persons=[
            {
                "role": "victim",
                "name": "Amina Diallo",
                "contact": "amina@example.org",
                "consent_to_share": True,
            }
        ],
    )
    resp = worker.request("POST", "/api/signals", signal, token=tokens["producer"])
    assert resp.status == 202, resp.body
    assert resp.body == {"accepted": [signal["id"]]}
    # The racist-assault playbook needs the expert panel: two members approve.
    approve(worker, panel_tokens, police_situation(signal))

    # Police: Slack first (C-POLICE), per the directory's channel order.
    police = task_of(signal, "racist-assault", "protect")
    slack = outbox.wait_for(lambda o: slack_for(o, police), timeout=30)
    assert len(slack) == 1
    payload = slack[0].payload
    assert payload["channel"] == "C-POLICE"
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header"
    # The playbook's French text for a French-speaking liaison.
    assert blocks[0]["text"]["text"] == "Protéger la victime et sécuriser le quartier"
    assert "évaluez les besoins de protection à Quartier Nord" in blocks[1]["text"]["text"]
    assert "URGENT" in blocks[1]["text"]["text"]
    buttons = {e["action_id"]: e for e in blocks[2]["elements"]}
    assert buttons["task.open"]["url"] == f"https://concord.city.example/tasks/{police}"
    assert buttons["task.ack"]["text"]["text"] == "Prendre en charge"  # French liaison
    assert {buttons[a]["value"] for a in ("task.ack", "task.decline", "task.done")} == {police}

    # Victim support: email only, in French (the liaison's language).
    support = task_of(signal, "racist-assault", "support")
    mails = outbox.wait_for(lambda o: emails_for(o, support), timeout=30)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.rcpt_to == ["accueil@victimes.concordia.example"]
    assert mail.mail_from == "concord@city.example"
    assert "Proposer un accompagnement à la victime" in mail.subject
    assert "Proposez un accompagnement et une orientation" in mail.text
    assert "Bonjour Nadia Benali" in mail.text
    assert "Quartier : Quartier Nord" in mail.text
    assert f"https://concord.city.example/tasks/{support}" in mail.html

    # The victim is never named to a third-party carrier.
    everything = [m.raw.decode(errors="replace") for m in outbox.emails()] + [
        json.dumps(c.payload) for c in outbox.slack()
    ]
    for text in everything:
        assert "Amina" not in text
        assert "amina@example.org" not in text

    # The task that depends on another is held, not sent.
    held = task_of(signal, "racist-assault", "schools-watch")

    def states() -> dict[str, str] | None:
        r = worker.request(
            "GET", f"/api/situations/{police_situation(signal)}", token=tokens["coordinator"]
        )
        found = {t["id"]: t["state"] for t in r.body["tasks"]} if r.status == 200 else {}
        return (
            found if len(found) == 3 and "pending" not in (found[police], found[support]) else None
        )

    assert wait_until(states)[held] == "pending"
    assert not emails_for(outbox, held)
    assert not slack_for(outbox, held)


def police_situation(signal: dict[str, object]) -> str:
    from concord.core.correlation import situation_id

    return situation_id(str(signal["id"]), str(signal["area"]))


def test_situation_api_shows_tasks_without_persons(worker: Worker, tokens: dict[str, str]) -> None:
    signal = make_signal(
        category="vandalism",
        bias=["antisemitic"],
        severity=2,
        summary="Graffiti naming Jo Bloggs",
        persons=[{"role": "witness", "name": "Jo Bloggs", "consent_to_share": False}],
    )
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    sid = police_situation(signal)

    def assigned() -> dict[str, object] | None:
        r = worker.request("GET", f"/api/situations/{sid}", token=tokens["coordinator"])
        if r.status != 200 or len(r.body["tasks"]) != 2:
            return None
        return r.body if all(t["state"] == "assigned" for t in r.body["tasks"]) else None

    body = wait_until(assigned, timeout=30)
    assert body["area"] == "north"
    assert body["severity"] == 2
    assert body["state"] == "open"
    assert body["analysis"]["version"] == 1
    assert [s["id"] for s in body["signals"]] == [signal["id"]]
    assert {t["agency"] for t in body["tasks"]} == {"police", "ngo-antiracism"}
    dumped = json.dumps(body)
    assert "Jo Bloggs" not in dumped
    assert "Bloggs" not in dumped
    assert "[witness]" in dumped

    listing = worker.request("GET", "/api/situations", token=tokens["coordinator"])
    assert sid in [s["id"] for s in listing.body]
    # A liaison sees their own agency's tasks only, and cannot read situations.
    mine = worker.request("GET", "/api/tasks", token=tokens["liaison"])
    assert mine.status == 200
    assert all(t["agency"] == "police" for t in mine.body)
    assert worker.request("GET", "/api/tasks?agency=youth", token=tokens["liaison"]).status == 403
    assert worker.request("GET", "/api/situations", token=tokens["liaison"]).status == 403


def test_duplicate_id_is_processed_once(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    before = worker.metric('concord_signals_total{outcome="duplicate"}')
    signal = make_signal(category="vandalism", bias=["antisemitic"], area="centre", severity=3)
    for _ in range(2):
        assert (
            worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
        )
    task = task_of(signal, "place-of-worship-vandalism", "police-report")
    outbox.wait_for(lambda o: slack_for(o, task), timeout=30)
    wait_until(lambda: worker.metric('concord_signals_total{outcome="duplicate"}') >= before + 1)
    assert len(slack_for(outbox, task)) == 1
    other = task_of(signal, "place-of-worship-vandalism", "community-contact")
    assert len(outbox.wait_for(lambda o: slack_for(o, other))) == 1


def test_malformed_record_goes_to_deadletter(worker: Worker) -> None:
    bootstrap = worker.env["CONCORD_BROKER"].split("://", 1)[1]
    bad = [b"{not json", json.dumps(make_signal(severity=9, area="atlantis")).encode(), b"\xff\xfe"]
    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    for i, raw in enumerate(bad):
        producer.send("concord.signals.in", key=f"bad-{i}".encode(), value=raw)
    producer.flush()
    producer.close()

    unseal = unsealer(worker)
    consumer = KafkaConsumer(
        "concord.deadletter",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    found: dict[bytes, DeadLetter] = {}

    def all_dead() -> bool:
        for record in consumer:
            dead = DeadLetter.model_validate_json(record.value)
            found[unseal(dead.original)] = dead
        return all(raw in found for raw in bad)

    try:
        wait_until(all_dead, timeout=30)
    finally:
        consumer.close()
    assert found[b"{not json"].reason == "not JSON"
    assert found[b"\xff\xfe"].reason == "not JSON"
    invalid = found[bad[1]]
    assert invalid.reason == "invalid signal"
    assert {"loc": "severity", "msg": "Input should be less than or equal to 5"} in invalid.errors
    assert invalid.original_size == len(bad[1])
    assert invalid.topic == "concord.signals.in"
    assert invalid.offset is not None
    # The dead letter itself does not carry the plaintext.
    assert b"atlantis" not in invalid.model_dump_json().encode()


def test_http_errors(worker: Worker, tokens: dict[str, str]) -> None:
    post = worker.request
    assert post("POST", "/api/signals", make_signal()).status == 401
    assert post("POST", "/api/signals", make_signal(), token="cnc_wrong").status == 401
    assert post("POST", "/api/signals", make_signal(), token=tokens["liaison"]).status == 403

    bad = make_signal(severity=7)
    del bad["source"]
    r = post("POST", "/api/signals", [make_signal(), bad], token=tokens["producer"])
    assert r.status == 422
    locs = {e["loc"]: e["msg"] for e in r.body["errors"]}
    assert locs["1.severity"] == "Input should be less than or equal to 5"
    assert locs["1.source"] == "Field required"

    r = post("POST", "/api/signals", make_signal(area="atlantis"), token=tokens["producer"])
    assert r.status == 422
    assert r.body["errors"][0]["loc"] == "area"
    r = post("POST", "/api/signals", raw=b"{oops", token=tokens["producer"])
    assert r.status == 422
    assert r.body["error"] == "body is not JSON"
    r = post("POST", "/api/signals", make_signal(summary="x" * 30_000), token=tokens["producer"])
    assert r.status == 413
    assert post("POST", "/api/signals", [], token=tokens["producer"]).status == 422


def test_exercise_is_marked_everywhere(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = make_signal(exercise=True, area="south")
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    approve(worker, panel_tokens, police_situation(signal))
    slack = outbox.wait_for(lambda o: slack_for(o, task_of(signal, "racist-assault", "protect")))
    assert slack[0].payload["blocks"][0]["text"]["text"].startswith("EXERCICE — ")  # French liaison
    mail = outbox.wait_for(lambda o: emails_for(o, task_of(signal, "racist-assault", "support")))[0]
    assert mail.subject.startswith("[EXERCICE]")
    assert mail.headers.get("X-Concord-Exercise") == "yes"


def test_slack_rate_limit_is_honoured(
    worker: Worker, tokens: dict[str, str], outbox: Outbox, slack_server: SlackApiServer
) -> None:
    slack_server.fail_next(1, "ratelimited", status=429, retry_after=1, channel="C-POLICE")
    signal = make_signal(area="centre", category="vandalism", bias=["anti_muslim"], severity=2)
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    task = task_of(signal, "place-of-worship-vandalism", "police-report")
    delivered = outbox.wait_for(lambda o: slack_for(o, task), timeout=30)
    assert len(delivered) == 1
    # The playbook's other task goes to Slack too: wait for it, so no call is left in flight.
    other = task_of(signal, "place-of-worship-vandalism", "community-contact")
    outbox.wait_for(lambda o: slack_for(o, other), timeout=30)
    wait_until(
        lambda: (
            worker.metric('concord_delivery_attempts_total{channel="slack",outcome="failed"}') >= 1
        )
    )


def test_permanent_slack_error_falls_back_to_email(
    worker: Worker,
    tokens: dict[str, str],
    panel_tokens: dict[str, str],
    outbox: Outbox,
    slack_server: SlackApiServer,
) -> None:
    signal = make_signal(area="south", severity=5)
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    # Fail the police channel only once the panel's own Slack notice has gone out.
    sid = police_situation(signal)
    outbox.wait_for(lambda o: panel_notices(o, sid))
    slack_server.fail_next(1, "channel_not_found", channel="C-POLICE")
    approve(worker, panel_tokens, sid)
    task = task_of(signal, "racist-assault", "protect")
    mails = outbox.wait_for(lambda o: emails_for(o, task), timeout=30)
    assert mails[0].rcpt_to == ["duty@police.concordia.example"]
    assert not slack_for(outbox, task)


def test_health_and_metrics(worker: Worker) -> None:
    health = worker.request("GET", "/healthz")
    assert health.status == 200
    # "degraded" once a stage dead-lettered a record it failed on (test_stages does that).
    assert health.body["status"] in ("ok", "degraded")
    assert health.body["playbooks"] == 8
    assert health.body["worker"]
    assert health.body["read_model"]
    assert health.body["channels"] == [
        "email",
        "matrix",
        "mattermost",
        "rocketchat",
        "slack",
        "teams",
        "webhook",
    ]
    metrics = worker.request("GET", "/metrics")
    assert metrics.status == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert "concord_playbooks_loaded 8.0" in metrics.body
    # Faust's own table and router views are off: they would bypass authentication.
    for path in ("/table/", "/router/", "/graph/"):
        assert worker.request("GET", path).status == 404
