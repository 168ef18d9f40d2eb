"""What a security and bad-input probe of the running stack found (issue #10), on the real
broker: nothing a producer or an attacker sends is lost silently, answered with a 500,
cut short, replayed, or lets a link, a cookie or a token do more than it should."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaProducer
from pydantic import SecretStr

from concord.streams.audit import DeadLetter
from tests.conftest import SLACK_SIGNING_SECRET, Worker, make_signal, wait_until
from tests.integration.helpers import (
    WebClient,
    audit_entries,
    panel_emails,
    raw_http,
    records,
    signed_slack,
    unsealer,
)

pytestmark = pytest.mark.integration


def bootstrap(worker: Worker) -> str:
    return worker.env["CONCORD_BROKER"].split("://", 1)[1]


def dead_letters(worker: Worker) -> list[tuple[DeadLetter, bytes]]:
    """Every dead letter so far, with its original bytes opened."""
    unseal = unsealer(worker)
    letters = [
        DeadLetter.model_validate_json(v or b"") for _, v in records(worker, "concord.deadletter")
    ]
    return [(dead, unseal(dead.original)) for dead in letters]


def produce(worker: Worker, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap(worker), enable_idempotence=False)
    for key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def situation_of(worker: Worker, token: str, signal_id: str) -> dict[str, Any] | None:
    r = worker.request("GET", "/api/situations", token=token)
    found = [s for s in r.body if any(x["id"] == signal_id for x in s["signals"])]
    return found[0] if found else None


def test_records_intake_cannot_read_are_dead_lettered_with_their_bytes(
    worker: Worker, tokens: dict[str, str]
) -> None:
    year_one = json.dumps(make_signal(occurred_at="0001-01-01T00:00:00Z")).encode()
    poison = [
        year_one,
        b"[" * 10_000 + b"]" * 10_000,
        b'{"severity": ' + b"9" * 5_000 + b"}",
        b'{"id": "a", "id": "b"}',
        json.dumps(make_signal()).encode("utf-16"),
    ]
    sentinel = make_signal()
    produce(
        worker,
        "concord.signals.in",
        [(f"poison-{i}".encode(), raw) for i, raw in enumerate(poison)]
        + [(b"sentinel", json.dumps(sentinel).encode())],
    )
    # The records after them are processed: nothing is stuck behind a poison record.
    wait_until(lambda: situation_of(worker, tokens["coordinator"], str(sentinel["id"])))
    found = wait_until(
        lambda: (
            (d := {raw: dead for dead, raw in dead_letters(worker)})
            and all(raw in d for raw in poison)
            and d
        )
    )
    assert found[year_one].reason == "invalid signal"
    assert found[year_one].errors[0]["loc"] == "occurred_at"
    assert "nested more than 32 levels" in found[poison[1]].errors[0]["msg"]
    assert "integer of 5000 digits" in found[poison[2]].errors[0]["msg"]
    assert "duplicate key 'id'" in found[poison[3]].errors[0]["msg"]
    assert "not UTF-8" in found[poison[4]].errors[0]["msg"]
    assert {found[raw].stage for raw in poison} == {"intake"}
    assert found[poison[1]].key == "poison-1"
    assert found[poison[1]].offset is not None


def test_a_record_a_stage_cannot_process_is_dead_lettered_and_the_stage_goes_on(
    worker: Worker, tokens: dict[str, str]
) -> None:
    before = worker.metric('concord_stage_failures_total{stage="correlate"}')
    # Not a Signal: correlation cannot read it. Faust would have dropped it silently.
    garbage = b'{"id": "not-a-signal", "severity": "high"}'
    produce(worker, "concord.signals", [(b"north", garbage)])
    after = make_signal(area="north")
    assert worker.request("POST", "/api/signals", after, token=tokens["producer"]).status == 202
    wait_until(lambda: situation_of(worker, tokens["coordinator"], str(after["id"])))
    dead = wait_until(lambda: [d for d, raw in dead_letters(worker) if raw == garbage])[0]
    assert (dead.stage, dead.reason, dead.topic) == (
        "correlate",
        "undecodable record",
        "concord.signals",
    )
    assert {"loc": "kind", "msg": "Field required"} in dead.errors
    wait_until(lambda: worker.metric('concord_stage_failures_total{stage="correlate"}') > before)
    where = f"concord.signals:{dead.partition}:{dead.offset}"
    (entry,) = wait_until(lambda: audit_entries(worker, where, "record.deadlettered"))
    assert entry.details == {"stage": "correlate", "reason": "undecodable record"}
    health = worker.request("GET", "/healthz").body
    assert health["status"] == "degraded"
    assert health["stage_failures"]["correlate"]["records"] >= 1


def test_bodies_sent_in_pieces_are_read_whole(worker: Worker, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['producer']}", "Content-Type": "application/json"}
    one = json.dumps(make_signal(kind="tension", category="other", severity=1)).encode()
    status, body = raw_http(worker.base, "POST", "/api/signals", auth, [one[:200], one[200:]])
    assert status == 202, body
    # ~12 KB in 4 writes; tension signals that fire no playbook (30 assaults would queue 30
    # panel notices, paced at one a second on the panel's Slack channel).
    quiet = [make_signal(kind="tension", category="other", severity=1) for _ in range(30)]
    batch = json.dumps(quiet).encode()
    pieces = [batch[i : i + len(batch) // 4 + 1] for i in range(0, len(batch), len(batch) // 4 + 1)]
    status, body = raw_http(worker.base, "POST", "/api/signals", auth, pieces, pause=0.2)
    assert status == 202, body
    assert len(json.loads(body)["accepted"]) == 30, body
    status, body = raw_http(worker.base, "POST", "/api/signals", auth, pieces, chunked=True)
    assert status == 202, body
    # Over the limit (20 KB in the tests) when chunked, with no Content-Length to go by.
    big = [b"[" + b" " * 8_000, b" " * 8_000, b" " * 8_000 + b"]"]
    status, body = raw_http(worker.base, "POST", "/api/signals", auth, big, chunked=True)
    assert status == 413
    assert b"larger than 20000 bytes" in body
    # A correctly signed Slack request whose body arrives in two writes.
    headers, slack = signed_slack(
        {"type": "block_actions", "user": {"id": "U-NOBODY"}, "actions": []}, SLACK_SIGNING_SECRET
    )
    status, body = raw_http(
        worker.base, "POST", "/slack/actions", headers, [slack[:30], slack[30:]]
    )
    assert status == 200, body


def test_bad_input_gets_a_4xx_with_a_reason_never_a_500(
    worker: Worker, tokens: dict[str, str]
) -> None:
    deep = b"[" * 5_000 + b"]" * 5_000
    huge = b'{"reason": ' + b"9" * 5_000 + b"}"
    producer, panel = tokens["producer"], tokens["panel"]
    liaison = tokens["liaison"]
    cases: list[tuple[str, bytes, str | None, int]] = [
        ("/api/signals", deep, producer, 422),
        ("/api/signals", huge, producer, 422),
        ("/api/signals", b"\xff\xfe\x00", producer, 422),
        ("/api/reviews/sit-x/votes", deep, panel, 422),
        ("/api/reviews/sit-x/votes", huge, panel, 422),
        ("/api/reviews/sit-x/votes", b"[]", panel, 422),
        ("/api/tasks/task-x/ack", deep, liaison, 422),
        ("/api/tasks/task-x/decline", huge, liaison, 422),
        ("/api/tasks/task-x/decline", b'"a string"', liaison, 422),
        ("/api/tasks/task-x/decline", json.dumps({"reason": "x" * 5000}).encode(), liaison, 422),
        ("/api/situations/sit-x/state", deep, tokens["coordinator"], 422),
    ]
    for path, raw, token, expected in cases:
        r = worker.request("POST", path, raw=raw, token=token)
        assert r.status == expected, (path, raw[:30], r.status, r.body)
        assert r.body["error"]
        assert r.body.get("errors", [{}])[0].get("msg", "x")
    headers, body = signed_slack({"type": "block_actions"}, SLACK_SIGNING_SECRET)
    for stamp in ("abc", "1.5", "", "99999999999999999999999"):
        answer = raw_http(
            worker.base,
            "POST",
            "/slack/actions",
            {**headers, "X-Slack-Request-Timestamp": stamp},
            [body],
        )
        assert answer[0] == 401, (stamp, answer)
    answer = raw_http(worker.base, "POST", "/slack/actions", headers, [b"\xff\xfe" + body])
    assert answer[0] == 401
    for payload in ([1, 2], "a string", {"type": "block_actions", "user": "U-ANA"}):
        h, b = signed_slack(payload, SLACK_SIGNING_SECRET)
        status, said = raw_http(worker.base, "POST", "/slack/actions", h, [b])
        assert status == 400
        assert b"no interactivity payload" in said
    # A malformed HTTP message: 400, and one warning line (no traceback) in the log.
    status, _ = raw_http(worker.base, "POST", "/api/signals", {"Content-Length": "abc"}, [])
    assert status == 400
    wait_until(lambda: "Bad HTTP request from 127.0.0.1" in worker.log.read_text())
    assert "Error handling request" not in worker.log.read_text()
    assert worker.request("GET", "/healthz").status == 200  # and it keeps serving


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"severity": "5"}, "severity"),
        ({"severity": 5.0}, "severity"),
        ({"severity": True}, "severity"),
        ({"occurred_at": "9999-12-31T23:59:59Z"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at"),
        ({"bias": ["anti_black"] * 1_000}, "bias"),  # 10,000 is over the tests' 20 KB body
        ({"exercise": "yes"}, "exercise"),
        ({"id": "evil\r\nINFO concord: forged"}, "id"),
    ],
)
def test_loose_values_are_refused(
    worker: Worker, tokens: dict[str, str], change: dict[str, Any], loc: str
) -> None:
    r = worker.request("POST", "/api/signals", make_signal(**change), token=tokens["producer"])
    assert r.status == 422, r.body
    assert r.body["errors"][0]["loc"] == loc, r.body


def test_duplicate_keys_and_other_encodings_are_refused(
    worker: Worker, tokens: dict[str, str]
) -> None:
    signal = json.dumps(make_signal(severity=1))
    twice = signal[:-1] + ', "severity": 5}'
    r = worker.request("POST", "/api/signals", raw=twice.encode(), token=tokens["producer"])
    assert r.status == 422
    assert "duplicate key 'severity'" in r.body["errors"][0]["msg"]
    r = worker.request(
        "POST", "/api/signals", raw=signal.encode("utf-16"), token=tokens["producer"]
    )
    assert r.status == 422
    assert "not UTF-8" in r.body["errors"][0]["msg"]


def test_one_bad_signal_in_a_batch_refuses_the_batch_with_its_index(
    worker: Worker, tokens: dict[str, str]
) -> None:
    batch = [make_signal() for _ in range(10)] + [make_signal(occurred_at="0001-01-01T00:00:00Z")]
    r = worker.request("POST", "/api/signals", batch, token=tokens["producer"])
    assert r.status == 422
    assert [e["loc"] for e in r.body["errors"]] == ["10.occurred_at"]


def test_sign_in_cannot_be_forged_redirected_or_burnt_by_a_scanner(
    worker: Worker, outbox: Any
) -> None:
    from tests.integration.helpers import sign_in_link, sign_in_mails

    email = "coordination@concordia.example"
    # A forged form (no anti-forgery token, or another browser's) sends nothing.
    attacker = WebClient(worker.base)
    before = len(sign_in_mails(outbox, email))
    status, _, page = attacker.open("/login", {"email": email, "next": "/review", "csrf": "x"})
    assert status == 403
    assert "expired" in page
    # The genuine form, with a next= that would leave the site.
    client = WebClient(worker.base)
    client.ask_link(email, "/\\evil.example")
    link = sign_in_link(outbox, email, before)
    assert "evil" not in link  # the link never carries it
    # GET (a mail scanner following the link) signs nobody in and uses nothing up.
    status, _, confirm = client.open(link)
    # The coordinator reads French: the page asks in their language.
    assert status == 200
    assert "Se connecter à Concord en tant que" in confirm
    assert "concord_session" not in client.cookies
    # `/%09/evil.example` in a query reads as "/<tab>/evil.example": another site.
    _, _, form = client.open("/login?next=/%09/evil.example")
    assert 'name="next" value=""' in form
    status, landed, _ = client.open(link.split("?")[0], {"next": "/\t/evil.example"})
    assert status == 200, landed
    assert landed == "/board", landed  # the coordinator's home, not evil.example
    assert "concord_session" in client.cookies
    status, _, _ = WebClient(worker.base).open(link.split("?")[0], {"next": ""})
    assert status == 410  # the link worked once
    # Signing out revokes the session: the kept cookie no longer opens anything.
    kept = dict(client.cookies)
    client.open("/logout", {})
    thief = WebClient(worker.base)
    thief.cookies = kept
    status, where, _ = thief.open("/review")
    assert where.startswith("/login?next="), where


def test_the_session_cookie_is_secure_and_every_answer_has_security_headers(
    worker: Worker, outbox: Any
) -> None:
    import http.client
    import urllib.parse

    from tests.integration.helpers import sign_in_link, sign_in_mails

    email = "koen@mediation.concordia.example"
    client = WebClient(worker.base)
    before = len(sign_in_mails(outbox, email))
    client.ask_link(email)
    path = sign_in_link(outbox, email, before).split("?")[0]
    host = urllib.parse.urlsplit(worker.base)
    conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=15)
    conn.request(
        "POST", path, body=b"next=", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    resp = conn.getresponse()
    cookie = resp.getheader("Set-Cookie") or ""
    assert resp.status == 303
    assert "concord_session=" in cookie
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    for path in ("/login", "/api/situations", "/nowhere", "/healthz"):
        r = worker.request("GET", path)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], path
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Server"] == "Concord", r.headers["Server"]


def test_an_expired_task_link_says_it_expired(worker: Worker) -> None:
    from concord.access.links import Signer, TaskLink

    secret = (worker.data_dir / "keys" / "secret_key").read_text().strip()
    weeks_ago = time.time() - 15 * 24 * 3600
    signer = Signer(SecretStr(secret), clock=lambda: weeks_ago)
    token = signer.task_link(TaskLink("task-x", "police-duty", "ack"))
    r = worker.request("GET", f"/t/{token}?lang=en")
    assert r.status == 410
    assert "expired" in r.body


def test_slack_replays_and_repeated_votes_change_nothing(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str]
) -> None:
    from concord.core.correlation import situation_id

    signal = make_signal(category="harassment", severity=4, area="south")
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    sid = situation_id(str(signal["id"]), "south")
    reviews = f"/api/reviews/{sid}"
    wait_until(lambda: worker.request("GET", reviews, token=tokens["coordinator"]).status == 200)
    click = {
        "type": "block_actions",
        "user": {"id": "U-ANA"},
        "actions": [
            {"action_id": "review.approve", "value": f"{sid}|1", "action_ts": f"{time.time():.6f}"}
        ],
    }
    headers, body = signed_slack(click, SLACK_SIGNING_SECRET)
    assert raw_http(worker.base, "POST", "/slack/actions", headers, [body])[0] == 200
    wait_until(
        lambda: (
            worker.request("GET", reviews, token=tokens["coordinator"]).body["approvals"]
            == ["panel-researcher"]
        )
    )
    # Ana changes her mind on the review page's API...
    reject = {"decision": "reject", "version": 1, "reason": "no racist motive established"}
    r = worker.request("POST", f"{reviews}/votes", reject, token=panel_tokens["panel-researcher"])
    assert r.status == 202
    wait_until(
        lambda: (
            worker.request("GET", reviews, token=tokens["coordinator"]).body["rejections"]
            == ["panel-researcher"]
        )
    )
    # ...and the captured click, replayed inside the 5 minutes, is ignored.
    status, reply = raw_http(worker.base, "POST", "/slack/actions", headers, [body])
    assert status == 200
    assert b"Already recorded" in reply
    # Koen approves three times: one vote stored.
    approve = {"decision": "approve", "version": 1}
    answers = [
        worker.request(
            "POST", f"{reviews}/votes", approve, token=panel_tokens["panel-practitioner"]
        )
        for _ in range(3)
    ]
    assert answers[0].status == 202
    review = wait_until(
        lambda: (
            (b := worker.request("GET", reviews, token=tokens["coordinator"]).body)
            and "panel-practitioner" in b["approvals"]
            and b
        )
    )
    assert [v["member"] for v in review["votes"]].count("panel-practitioner") == 1
    assert review["rejections"] == ["panel-researcher"]
    assert all(a.status in (200, 202) for a in answers)


def test_token_names_must_be_someone_the_directory_knows_in_that_place(worker: Worker) -> None:
    r = worker.cli("token", "create", "ngo-duty", "--role", "liaison", "--agency", "police")
    assert r.returncode == 2
    assert r.stderr.decode().strip().endswith("one of police-duty, police-chief")
    r = worker.cli("token", "create", "someone", "--role", "liaison", "--agency", "police")
    assert r.returncode == 2
    assert b"named after a liaison of police" in r.stderr
    r = worker.cli("token", "create", "feed", "--role", "producer", "--agency", "police")
    assert r.returncode == 2
    assert b"only for liaison tokens" in r.stderr


def test_log_lines_cannot_be_forged_by_a_record(worker: Worker) -> None:
    forged = json.dumps(make_signal(id="x\r\nFORGED-LINE")).encode()
    produce(worker, "concord.signals.in", [(b"key\r\nFORGED-KEY", forged), (b"\x1b[2J", b"{")])
    wait_until(lambda: [d for d, raw in dead_letters(worker) if raw == forged])
    for line in worker.log.read_text().splitlines():
        assert not line.startswith("FORGED")
        assert "\x1b[2J" not in line


def test_the_panel_email_never_quotes_the_report_so_no_line_can_pose_as_a_vote_link(
    worker: Worker, tokens: dict[str, str], outbox: Any
) -> None:
    from concord.core.correlation import situation_id

    planted = "Pushed at the stop.\nApprove: https://evil.example/vote\r\nReject: x"
    signal = make_signal(category="hate_crime", severity=4, area="centre", summary=planted)
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    mails = outbox.wait_for(lambda o: panel_emails(o, situation_id(str(signal["id"]), "centre")))
    for mail in mails:
        # What a report says stays on the review page: the email links to it.
        assert "evil.example" not in mail.text
        assert "Pushed at the stop" not in mail.text
        assert "/review/" in mail.text


def test_a_tension_signal_never_lends_its_severity(worker: Worker, tokens: dict[str, str]) -> None:
    harassment = make_signal(category="harassment", severity=2, area="south")
    at = datetime.fromisoformat(str(harassment["occurred_at"])) + timedelta(minutes=30)
    tension = make_signal(
        kind="tension", category="other", severity=5, area="south", occurred_at=at.isoformat()
    )
    for s in (harassment, tension):
        assert worker.request("POST", "/api/signals", s, token=tokens["producer"]).status == 202
    coordinator = tokens["coordinator"]
    situation = wait_until(
        lambda: (
            (s := situation_of(worker, coordinator, str(tension["id"])))
            and len(s["signals"]) == 2
            and s
        )
    )
    assert situation["severity"] == 2
    fired = {m["playbook"] for m in situation["matches"] if m["status"] == "fired"}
    assert "racist-assault" not in fired
    assert situation["state"] == "open"
    assert worker.request("GET", f"/api/reviews/{situation['id']}", token=coordinator).status == 404


def test_a_task_names_where_its_incident_happened_and_shows_only_its_reports_persons(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Any
) -> None:
    from concord.core.correlation import situation_id
    from tests.conftest import approve
    from tests.integration.helpers import slack_for, task_of
    from tests.integration.test_tasks import wait_state

    victim = {"role": "victim", "name": "Amina Diallo", "consent_to_share": True}
    assault = make_signal(
        category="hate_crime", severity=4, area="north", persons=[victim], bias=["antisemitic"]
    )
    at = datetime.fromisoformat(str(assault["occurred_at"])) + timedelta(minutes=30)
    witness = {"role": "witness", "name": "Jo Vandal", "consent_to_share": True}
    vandalism = make_signal(
        category="vandalism",
        bias=["antisemitic"],
        severity=3,
        area="centre",
        occurred_at=at.isoformat(),
        persons=[witness],
    )
    sid = situation_id(str(assault["id"]), "north")
    # One after the other: raw signals are keyed by id, so two posted together may reach
    # correlation in either order (and the situation is named after the first).
    assert worker.request("POST", "/api/signals", assault, token=tokens["producer"]).status == 202
    wait_until(lambda: situation_of(worker, tokens["coordinator"], str(assault["id"])))
    assert worker.request("POST", "/api/signals", vandalism, token=tokens["producer"]).status == 202
    # The vandalism joins the assault's situation (centre neighbours north)...
    wait_until(
        lambda: (
            (s := situation_of(worker, tokens["coordinator"], str(vandalism["id"])))
            and s["id"] == sid
        )
    )
    # ...and the police are told where it happened: Centre-ville, not Quartier Nord.
    police = task_id_for(sid, "place-of-worship-vandalism", "police-report")
    sent = outbox.wait_for(lambda o: slack_for(o, police))[0].payload
    text = json.dumps(sent, ensure_ascii=False)
    assert "Actez le vandalisme à Centre-ville" in text
    assert "Quartier Nord" not in text
    # Victim support (sharing: full) answers the assault: its victim, not the witness of
    # the vandalism merged into the same situation.
    approve(worker, panel_tokens, sid)
    support = task_of(assault, "racist-assault", "support")
    wait_state(worker, tokens["coordinator"], support, "assigned")
    made = worker.cli(
        "token", "create", "vs-duty", "--role", "liaison", "--agency", "victim-support"
    )
    vs = made.stdout.decode().strip()
    seen = wait_until(
        lambda: (
            (r := worker.request("GET", f"/api/tasks/{support}/persons", token=vs)).status == 200
            and r.body
        )
    )
    assert [s["signal_id"] for s in seen["signals"]] == [assault["id"]]
    assert "Jo Vandal" not in json.dumps(seen)


def task_id_for(situation: str, playbook: str, key: str) -> str:
    from concord.core.planning import task_id

    return task_id(situation, playbook, key)
