"""What a report says, on the real broker: a public report's free text (a name, an e-mail
address, a phone number in three spellings, a street address) is never readable on a
topic, a changelog or in a message to a carrier; a signed-in reader gets it scrubbed;
an access request finds it however the number is written; after `concord erase` it is
gone from the API and the pages. Also the web's edges: reflected markup, `%`, caching,
control characters, and the board's event streams after a sign-out."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from concord.embedded.outbox import Outbox
from tests.conftest import Worker, wait_until
from tests.integration.helpers import WebClient, audit_entries, records

pytestmark = pytest.mark.integration

NAME, SURNAME = "Ignatius", "Wobblebottom"
MAIL = "ignatius.wobblebottom@example.org"
SPELLINGS = ("0471/23.45.67", "+32 471 23 45 67", "0032 471 23 45 67")
PLACE = "Wobblebottom bakery, Rue Haute 12"
#: What must never be readable in clear (a number's digits however they are spaced).
MARKS = (NAME, SURNAME, MAIL, "Rue Haute", "471234567")


def bootstrap(worker: Worker) -> str:
    return worker.env["CONCORD_BROKER"].split("://", 1)[1]


def in_clear(blob: bytes) -> list[str]:
    text = blob.decode("utf-8", "replace")
    digits = "".join(ch for ch in text if ch.isdigit())
    return [m for m in MARKS if m in text or (m.isdigit() and m in digits)]


def readable_on_the_broker(worker: Worker) -> dict[str, list[str]]:
    """Topic -> the marks found in clear, over every topic but the raw input."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap(worker))
    try:
        topics = sorted(admin.list_topics())
    finally:
        admin.close()
    found: dict[str, list[str]] = {}
    for topic in topics:
        if topic == "concord.signals.in":  # raw producer bytes: kept hours (docs/privacy.md)
            continue
        for key, value in records(worker, topic):
            marks = in_clear((key or b"") + b" " + (value or b""))
            if marks:
                found.setdefault(topic, []).extend(marks)
    return found


def situation_with(worker: Worker, token: str, signal_id: str) -> dict[str, Any] | None:
    answer = worker.request("GET", "/api/situations", token=token)
    for s in answer.body:
        if any(r["id"] == signal_id for r in s["signals"]):
            return dict(s)
    return None


def report(worker: Worker, **overrides: Any) -> str:
    body = {
        "category": "hate_crime",
        "summary": (
            f"{NAME} {SURNAME} was insulted and pushed near the bakery. "
            f"Reach {NAME} at {SPELLINGS[0]} or {MAIL}; "
            f"also {SPELLINGS[1]}, or from abroad {SPELLINGS[2]}."
        ),
        "area": "centre",
        "place": PLACE,
        "occurred_at": "2026-12-01T20:42:00+01:00",
        "bias": ["anti_black"],
        "reporter_role": "witness",
        "language": "fr",
        "consent_to_contact": True,
        "contact": SPELLINGS[1],
    } | overrides
    answer = worker.request("POST", "/api/reports", body)
    assert answer.status == 202, answer.body
    return "report-" + str(answer.body["receipt"])


def test_a_reports_free_text_is_sealed_scrubbed_found_and_gone_after_erase(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    coordinator = tokens["coordinator"]
    sid = report(worker)
    situation = wait_until(lambda: situation_with(worker, coordinator, sid), timeout=60)
    ref = next(r for r in situation["signals"] if r["id"] == sid)
    # A signed-in reader gets the text, scrubbed: what happened, not who.
    assert "insulted and pushed" in ref["summary"]
    assert "[name]" in ref["summary"]
    assert in_clear(json.dumps(situation).encode()) == [], situation
    assert "summary_sealed" not in ref
    assert ref["erased"] is False
    # The reading is audited (the list's entry names every report it opened), and the
    # entry is in Kafka before the answer is given: no waiting here.
    read = audit_entries(worker, "situations", "reports.read")
    assert any(sid in e.details["signals"].split(",") for e in read), read
    # Nothing readable on any topic or changelog, nor in any message to a carrier.
    assert readable_on_the_broker(worker) == {}
    for message in [*outbox.emails(), *outbox.slack(None)]:
        assert in_clear(str(message).encode()) == [], message
    # An access request finds the report however the number is written.
    for spelled in ("0471 23 45 67", "471234567", "0032 471 23 45 67"):
        done = worker.cli("persons", "find", "--contact", spelled, "--reason", "request 19")
        assert done.returncode == 0, (spelled, done.stdout)
        assert sid in done.stdout.decode(), (spelled, done.stdout)

    done = worker.cli("erase", sid, "--reason", "asked by the reporter")
    assert done.returncode == 0, done.stderr
    erased = wait_until(
        lambda: (
            (s := situation_with(worker, coordinator, sid))
            and next(r for r in s["signals"] if r["id"] == sid)["erased"]
            and s
        ),
        timeout=30,
    )
    ref = next(r for r in erased["signals"] if r["id"] == sid)
    assert ref["summary"] is None
    assert ref["erased"] is True
    # The situation keeps its facts: category, area, time, severity.
    assert ref["category"] == "hate_crime"
    assert ref["area"] == "centre"
    assert ref["severity"] == 3
    assert readable_on_the_broker(worker) == {}


def test_an_access_request_finds_a_dead_letter_that_names_the_contact(worker: Worker) -> None:
    letter = f"refused-{time.time_ns()}"
    raw = {
        "id": letter,
        "severity": 9,
        "persons": [{"role": "victim", "contact": "+32 472 00 11 22"}],
    }
    producer = KafkaProducer(bootstrap_servers=bootstrap(worker), enable_idempotence=False)
    producer.send("concord.signals.in", key=b"probe", value=json.dumps(raw).encode())
    producer.flush()
    producer.close()

    def found() -> bool:
        done = worker.cli("persons", "find", "--contact", "0472 00 11 22", "--reason", "r")
        return done.returncode == 0 and letter in done.stdout.decode()

    wait_until(found, timeout=60, interval=1)


def test_the_web_echoes_nothing_as_markup_and_caches_nothing(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    client = WebClient(worker.base)
    # Each person may ask 3 sign-in links in 15 minutes: one nobody else's tests use.
    client.sign_in(outbox, "logement@concordia.example")
    planted = '<b id=inj>INJ</b><meta http-equiv="refresh" content="0;url=https://evil.example">'
    for path in ("/tasks?done=" + urllib.parse.quote(planted), "/tasks?done=50%25"):
        status, _, page = client.open(path)
        assert status == 200, (path, status)
        assert "<b id=inj>" not in page
        assert "http-equiv" not in page
    for path in ("/api/situations", "/api/reviews", "/api/tasks"):
        answer = worker.request("GET", path, token=tokens["coordinator"])
        assert answer.status == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path
    # Control characters and bidi marks never get in.
    sid = report(
        worker,
        summary="Pushed\x00 at the \x1b[2Jstop \u202eevil.exe",
        consent_to_contact=False,
        contact="",
    )
    situation = wait_until(lambda: situation_with(worker, tokens["coordinator"], sid), timeout=60)
    said = next(r for r in situation["signals"] if r["id"] == sid)["summary"]
    assert "stop" in said, said
    assert not any(ch in said for ch in "\x00\x1b\u202e"), said


def _stream(worker: Worker, cookie: str) -> http.client.HTTPResponse:
    host = urllib.parse.urlsplit(worker.base)
    conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=30)
    conn.request("GET", "/board/events", headers={"Cookie": cookie})
    return conn.getresponse()


def test_board_streams_end_with_the_session_and_are_limited(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    client = WebClient(worker.base)
    client.sign_in(outbox, "ana@uni.concordia.example")  # a panel member reads the board
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    streams = [_stream(worker, cookie) for _ in range(5)]
    assert all(s.status == 200 for s in streams)
    assert _stream(worker, cookie).status == 429  # a sixth for the same session
    log_size = worker.log.stat().st_size
    streams[0].close()  # a reader who leaves
    # A change goes out to every stream, the closed one included.
    report(worker, consent_to_contact=False, contact="")
    while b"event: change" not in streams[1].fp.readline():
        pass
    client.open("/logout", {})
    started = time.monotonic()
    for s in streams[1:]:
        while s.fp.readline() not in (b"", b"0\r\n"):  # until the stream's last chunk
            pass
    assert time.monotonic() - started < 10
    tail = worker.log.read_bytes()[log_size:].decode("utf-8", "replace")
    assert "Traceback" not in tail, tail
    assert "ConnectionReset" not in tail, tail
    assert _stream(worker, cookie).status == 303  # signed out: to the sign-in page
