"""Fuzzing the running stack (issue #10): every HTTP input and the raw topic, on the real
broker. Whatever arrives, the server answers 4xx (never a 500) and keeps serving, and
every raw record is either processed or dead-lettered with its reason: none is stuck."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer

from concord.config.directory import load_directory
from concord.core import capin
from concord.core.refusal import Refused
from tests.conftest import ROOT, SLACK_SIGNING_SECRET, Worker, make_signal, wait_until
from tests.integration.helpers import audit_of, raw_http, signed_slack
from tests.integration.test_hardening import bootstrap, dead_letters, situation_of

pytestmark = pytest.mark.integration

LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
ARBITRARY = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=40,
)
FIELDS = [
    "id",
    "kind",
    "category",
    "severity",
    "occurred_at",
    "area",
    "reason",
    "decision",
    "version",
    "to",
    "signals",
    "other",
    "assignee",
    "amendment",
    "summary",
    "source",
]
SHAPED = st.dictionaries(st.sampled_from(FIELDS), ARBITRARY, max_size=8)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Bodies a careless producer or an attacker sends."""
    kind = draw(st.sampled_from(["json", "shaped", "bytes", "deep", "huge", "nan", "dup", "utf16"]))
    if kind == "json":
        return json.dumps(draw(ARBITRARY)).encode()
    if kind == "shaped":
        return json.dumps(draw(SHAPED)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "deep":
        n = draw(st.integers(30, 6_000))
        return b"[" * n + b"]" * n
    if kind == "huge":
        return b'{"severity": ' + b"9" * draw(st.integers(20, 6_000)) + b"}"
    if kind == "nan":
        return draw(st.sampled_from([b'{"severity": NaN}', b"[Infinity]", b'{"lat": 1e999}']))
    if kind == "dup":
        return b'{"decision": "approve", "decision": "reject", "version": 1}'
    return json.dumps(draw(SHAPED)).encode("utf-16")


ENDPOINTS = [
    ("/api/signals", "producer"),
    ("/api/cap", "producer"),
    ("/api/reviews/sit-fuzz/votes", "panel"),
    ("/api/tasks/task-fuzz/ack", "liaison"),
    ("/api/tasks/task-fuzz/decline", "coordinator"),
    ("/api/tasks/task-fuzz/reassign", "coordinator"),
    ("/api/situations/sit-fuzz/merge", "coordinator"),
    ("/api/situations/sit-fuzz/state", "coordinator"),
    ("/login", None),
    ("/review/sit-fuzz", None),
    ("/tasks/task-fuzz", None),
    ("/slack/actions", None),
]


@pytest.mark.timeout(300)
def test_no_http_input_gets_a_500(worker: Worker, tokens: dict[str, str]) -> None:
    @settings(max_examples=250, suppress_health_check=list(HealthCheck))
    @given(
        endpoint=st.sampled_from(ENDPOINTS),
        body=bodies(),
        pieces=st.integers(1, 3),
        chunked=st.booleans(),
        form=st.booleans(),
        signed=st.booleans(),
    )
    def probe(
        endpoint: tuple[str, str | None],
        body: bytes,
        pieces: int,
        chunked: bool,
        form: bool,
        signed: bool,
    ) -> None:
        path, role = endpoint
        headers = {
            "Content-Type": "application/x-www-form-urlencoded" if form else "application/json"
        }
        if role is not None:
            headers["Authorization"] = f"Bearer {tokens[role]}"
        if path == "/slack/actions" and signed and len(body) < 2_000:
            try:  # the body as a payload Slack signed (too deep a body is sent unsigned)
                payload: Any = json.loads(body)
                headers, body = signed_slack(payload, SLACK_SIGNING_SECRET)
            except (ValueError, RecursionError):
                headers, body = signed_slack(body.decode("latin-1"), SLACK_SIGNING_SECRET)
        size = max(1, len(body) // pieces + 1)
        parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        status, answer = raw_http(
            worker.base, "POST", path, headers, parts, pause=0.01, chunked=chunked
        )
        assert status < 500, (path, body[:80], status, answer[:300])

    probe()
    assert worker.request("GET", "/healthz").status == 200
    assert "Error handling request" not in worker.log.read_text()


def placed(worker: Worker, topic: str, prefix: str, batch: list[bytes]) -> list[tuple[int, int]]:
    """Produce each record (keys `prefix0`, `prefix1`, ...); where each one landed."""
    producer = KafkaProducer(bootstrap_servers=bootstrap(worker), enable_idempotence=False)
    sent = [
        producer.send(topic, key=f"{prefix}{i}".encode(), value=raw) for i, raw in enumerate(batch)
    ]
    producer.flush()
    where = [(f.get(timeout=10).partition, f.get(timeout=10).offset) for f in sent]
    producer.close()
    return where


@pytest.mark.timeout(300)
def test_every_raw_record_is_processed_or_dead_lettered(
    worker: Worker, tokens: dict[str, str]
) -> None:
    valid = [
        make_signal(kind="tension", category="other", severity=1, id=f"fuzz-{uuid.uuid4().hex[:8]}")
        for _ in range(15)
    ]

    @settings(max_examples=1, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(bodies(), min_size=150, max_size=150))
    def records(found: list[bytes]) -> None:
        drawn.extend(found)

    drawn: list[bytes] = []
    records()
    batch = drawn + [json.dumps(v).encode() for v in valid]
    where = placed(worker, "concord.signals.in", "f", batch)
    sentinel = make_signal()
    assert worker.request("POST", "/api/signals", sentinel, token=tokens["producer"]).status == 202
    wait_until(lambda: situation_of(worker, tokens["coordinator"], str(sentinel["id"])), timeout=60)

    def accounted() -> list[int]:
        dead = {
            (d.partition, d.offset)
            for d, _ in dead_letters(worker)
            if d.topic == "concord.signals.in"
        }
        ids = {
            r["id"]
            for s in worker.request("GET", "/api/situations", token=tokens["coordinator"]).body
            for r in s["signals"]
        }
        missing = []
        for i, raw in enumerate(batch):
            if where[i] in dead:
                continue
            try:
                signal_id = json.loads(raw).get("id")
            except (ValueError, AttributeError):
                signal_id = None
            if signal_id not in ids:
                missing.append(i)
        return missing

    wait_until(lambda: not accounted(), timeout=60, interval=1)


#: A valid CAP 1.2 alert, the seed the XML fuzzing mutates.
ALERT = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>fz</identifier>
<sender>s@x.example</sender><sent>2026-12-06T10:00:00+01:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Restricted</scope><restriction>r</restriction><info>
<category>Security</category><event>e</event><urgency>Past</urgency><severity>Minor</severity>
<certainty>Observed</certainty><onset>2020-01-01T00:00:00+01:00</onset><headline>h</headline>
<area><areaDesc>Centre-ville</areaDesc></area></info></alert>"""
ENTITY = b'<!DOCTYPE alert [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


@st.composite
def alerts(draw: Any) -> bytes:
    """The seed alert, cut, spliced, given an entity, or with random bytes in it."""
    raw = ALERT
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        how = draw(st.sampled_from(["cut", "insert", "entity", "swap"]))
        if how == "cut":
            raw = raw[:at] + raw[at + draw(st.integers(1, 40)) :]
        elif how == "insert":
            raw = raw[:at] + draw(st.binary(max_size=20)) + raw[at:]
        elif how == "entity":
            raw = raw.replace(b"?>", b"?>" + ENTITY, 1).replace(b"<event>e", b"<event>&e;")
        else:
            raw = raw.replace(b"Minor", draw(st.sampled_from([b"Huge", b"", b"Extreme"])))
    return raw


@pytest.mark.timeout(300)
def test_every_cap_alert_is_answered_or_dead_lettered(
    worker: Worker, tokens: dict[str, str]
) -> None:
    """On `POST /api/cap` never a 500; on `concord.cap.in` every record is a signal, in
    triage, or a dead letter with its reason."""
    drawn: list[bytes] = []

    @settings(max_examples=150, suppress_health_check=list(HealthCheck), database=None)
    @given(alerts())
    def probe(raw: bytes) -> None:
        drawn.append(raw)
        got = worker.request("POST", "/api/cap", token=tokens["producer"], raw=raw)
        assert got.status in (202, 422), (raw[:200], got.status, got.body)

    probe()
    batch = [
        raw.replace(b"<identifier>fz", f"<identifier>fz{i}".encode())
        for i, raw in enumerate(drawn[:60])
    ]
    where = placed(worker, "concord.cap.in", "c", batch)

    directory = load_directory(ROOT / "directory.yml")
    # What each record is, as the stage's own rules read it: a dead letter, or an alert.
    idents = [capin.read(raw, directory) for raw in batch]

    def accounted() -> list[int]:
        dead = {
            (d.partition, d.offset) for d, _ in dead_letters(worker) if d.topic == "concord.cap.in"
        }
        taken = {e.subject for e in audit_of(worker, "cap.received")}
        return [
            i
            for i, got in enumerate(idents)
            if where[i] not in dead and (isinstance(got, Refused) or got.identifier not in taken)
        ]

    wait_until(lambda: not accounted(), timeout=90, interval=1)
    assert worker.request("GET", "/healthz").status == 200
