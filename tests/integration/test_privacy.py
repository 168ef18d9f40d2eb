"""Data protection on the real broker (#15): persons are never plaintext on a topic or
in a table changelog; an access request finds a person by contact; after `concord erase`
no page, API, export or dead letter shows them, and the erasure is audited."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from concord.core.correlation import situation_id
from concord.embedded.outbox import Outbox
from concord.privacy.keys import fingerprint, latest_keys
from tests.conftest import Worker, approve, make_signal, wait_until
from tests.integration.helpers import (
    WebClient,
    audit_entries,
    audit_of,
    emails_for,
    live_keys,
    read_topic,
    records,
    slack_for,
    task_of,
)
from tests.integration.test_tasks import wait_state
from tests.integration.up import Up

pytestmark = pytest.mark.integration

NAME = "Zofia Quarrington"
MAIL = "zofia.quarrington@example.org"
WITNESS = "Witold Ansbach"
PHONE = "+32 470 98 76 54"
#: What must never be readable: names, contacts, and the phone number's digits.
CHIEF = "chief@police.concordia.example"
MARKS = (NAME, MAIL, WITNESS, "470 98 76 54", "470987654", "Quarrington")


def bootstrap(worker: Worker) -> str:
    return worker.env["CONCORD_BROKER"].split("://", 1)[1]


def plaintext_on_the_broker(worker: Worker) -> dict[str, str]:
    """Topic -> the mark found in it, over every topic but the raw input (changelogs too)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap(worker))
    try:
        topics = sorted(admin.list_topics())
    finally:
        admin.close()
    found: dict[str, str] = {}
    for topic in topics:
        if topic == "concord.signals.in":  # raw producer bytes: kept hours (docs/privacy.md)
            continue
        for key, value in records(worker, topic):
            blob = (key or b"") + (value or b"")
            for mark in MARKS:
                if mark.encode() in blob:
                    found[topic] = mark
    return found


def letter_naming(worker: Worker, text: str) -> str | None:
    """The id of the dead letter whose original bytes (opened) hold `text`."""
    code, out, _ = cli(worker, "deadletter", "show", "--original", "--limit", "100000")
    assert code == 0
    letter = None
    for line in out.splitlines():
        if line.startswith("dl-"):
            letter = line.split()[0]
        elif text in line:
            return letter
    return None


def cli(worker: Worker, *args: str) -> tuple[int, str, str]:
    done = worker.cli(*args)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_persons_are_sealed_everywhere_found_by_contact_and_gone_after_erase(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    victim = {"role": "victim", "name": NAME, "contact": MAIL, "consent_to_share": True}
    witness = {"role": "witness", "name": WITNESS, "contact": PHONE}
    signal = make_signal(
        category="hate_crime",
        severity=4,
        area="centre",
        summary=f"{NAME} was threatened at the market; {WITNESS} saw it.",
        persons=[victim, witness],
    )
    sid = str(signal["id"])
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    # The same report once more, refused (severity 9): its dead letter holds the raw bytes.
    producer = KafkaProducer(bootstrap_servers=bootstrap(worker), enable_idempotence=False)
    producer.send(
        "concord.signals.in", key=b"again", value=json.dumps(signal | {"severity": 9}).encode()
    )
    producer.flush()
    producer.close()
    protect = task_of(signal, "racist-assault", "protect")
    police, coordinator = tokens["liaison"], tokens["coordinator"]
    approve(worker, panel_tokens, situation_id(sid, "centre"))
    wait_state(worker, coordinator, protect, "assigned")
    before = worker.request("GET", f"/api/tasks/{protect}/persons", token=police)
    assert before.status == 200
    assert NAME in json.dumps(before.body)
    # Two data keys seal this signal's data: the signal's and its dead letter's.
    wait_until(lambda: len([k for k in live_keys(worker).values() if k.subject == sid]) == 2)
    code, out, _ = cli(worker, "deadletter", "show", "--original", "--limit", "100000")
    assert code == 0
    assert NAME in out

    assert plaintext_on_the_broker(worker) == {}
    for message in [*slack_for(outbox, protect), *emails_for(outbox, protect)]:
        assert not any(mark in str(message) for mark in MARKS), message

    # An access request (art. 15): by contact, however it is written; audited without it.
    code, out, err = cli(
        worker,
        "persons",
        "find",
        "--contact",
        " Zofia.Quarrington@EXAMPLE.org",
        "--reason",
        "request 4",
    )
    assert code == 0, err
    assert sid in out
    assert "1 signals name this contact" in out
    code, out, _ = cli(
        worker, "persons", "find", "--contact", "+32470987654", "--reason", "request 5"
    )
    assert sid in out
    searched = audit_of(worker, "persons.searched")
    assert len(searched) >= 2
    assert not any(MAIL in e.model_dump_json() for e in searched)

    code, _, err = cli(worker, "erase", sid)
    assert code == 2
    assert err.startswith("error: ")
    assert "--reason" in err
    code, out, err = cli(worker, "erase", sid, "--reason", "the victim's request 4")
    assert code == 0, err
    assert f"erased {sid}" in out, err

    gone = wait_until(
        lambda: (
            (r := worker.request("GET", f"/api/tasks/{protect}/persons", token=police)).status
            == 410
            and r
        )
    )
    assert gone.body["erased"] is True
    assert gone.body["signals"] == [sid]
    # The task page of another police liaison (Dutch): the report is there, its people not.
    landed, page = WebClient(worker.base).sign_in(outbox, CHIEF, f"/tasks/{protect}")
    assert landed == f"/tasks/{protect}"
    assert "persoonsgegevens gewist" in page
    assert not any(mark in page for mark in MARKS)
    [entry] = audit_entries(worker, sid, "signal.erased")
    assert entry.details["reason"] == "the victim's request 4"
    assert entry.details["keys"] == "2"
    assert entry.via == "cli"
    assert entry.actor

    assert [k for k in live_keys(worker).values() if k.subject == sid] == []
    code, out, _ = cli(worker, "deadletter", "show", "--original", "--limit", "100000")
    assert code == 0
    assert NAME not in out
    code, out, _ = cli(worker, "persons", "find", "--contact", MAIL, "--reason", "request 4")
    assert sid not in out
    assert "0 signals" in out
    code, _, err = cli(worker, "erase", sid, "--reason", "again")
    assert code == 1
    assert "erased already" in err
    # Bytes that name no signal (not even JSON): the dead letter is erased by its id.
    broken = f'{{"broken": "{NAME}", '.encode()
    producer = KafkaProducer(bootstrap_servers=bootstrap(worker), enable_idempotence=False)
    producer.send("concord.signals.in", key=b"broken", value=broken)
    producer.flush()
    producer.close()
    letter = wait_until(lambda: letter_naming(worker, broken.decode()))
    code, out, err = cli(worker, "erase", letter, "--reason", "request 6")
    assert code == 0, err
    assert f"erased {letter}" in out, err
    assert letter_naming(worker, broken.decode()) is None
    assert audit_entries(worker, letter, "signal.erased")

    log = worker.log.read_text(errors="replace")  # every line the worker logged so far
    assert log
    assert not any(mark in log for mark in MARKS)
    csv = worker.request("GET", "/indicators?format=csv", token=coordinator)
    assert csv.status == 200
    assert "category" in csv.body
    assert not any(mark in csv.body for mark in MARKS)


def person(n: int) -> dict[str, object]:
    return {"role": "victim", "name": f"Ilse Marchetti-{n}", "contact": f"ilse.{n}@example.org"}


def on_disk(up: Up) -> bytes:
    """Every byte of the archive's files (the database and its write-ahead log)."""
    return b"".join(p.read_bytes() for p in up.archive.parent.glob("archive.sqlite3*"))


def data_keys(up: Up) -> dict[str, Any]:
    bootstrap = (up.home / "data" / "broker").read_text().strip().split("://", 1)[1]
    return latest_keys(
        (k.decode() if k else "", v) for k, v in read_topic(bootstrap, "concord.keys")
    )


def home(up: Up, token: str, signal_id: str) -> str | None:
    """The situation holding a signal now."""
    status, found = up.get("/api/situations", token)
    assert status == 200, found
    for s in found:
        if not s.get("merged_into") and any(r["id"] == signal_id for r in s["signals"]):
            return str(s["id"])
    return None


def test_one_machine_keeps_no_plaintext_or_erased_key_on_disk_and_rotates_its_key_live(
    tmp_path: Path,
) -> None:
    up = Up(tmp_path)
    up.start()
    try:
        coordinator, producer = up.tokens()
        a = make_signal(category="harassment", severity=2, area="south", persons=[person(1)])
        assert up.post("/api/signals", a, producer) == 202
        # b through the CLI: raw, unsealed bytes on concord.signals.in until intake has them.
        b = make_signal(category="vandalism", severity=2, area="north", persons=[person(2)])
        assert "sent 1" in up.cli("signal", "send", "-", stdin=json.dumps(b).encode())
        sit_a = wait_until(lambda: home(up, coordinator, str(a["id"])))
        wait_until(lambda: home(up, coordinator, str(b["id"])))
        # Nothing readable on disk: sealed values, and b's raw bytes gone once consumed.
        wait_until(lambda: b"Marchetti" not in on_disk(up) and len(data_keys(up)) == 2, 20)

        # Rotation with the worker running: the worker seals under the new key at once.
        ring = (up.home / "data" / "keys" / "data_key").read_text()
        assert "re-wrapped 2" in up.cli("keys", "rotate", "--new")
        new = fingerprint((up.home / "data" / "keys" / "data_key").read_text().split(",")[0])
        assert new != fingerprint(ring.split(",")[0])
        c = make_signal(category="hate_speech", severity=2, area="centre", persons=[person(3)])
        assert up.post("/api/signals", c, producer) == 202
        wait_until(
            lambda: {k.kek for k in data_keys(up).values()} == {new} and len(data_keys(up)) == 3
        )
        assert "re-wrapped 0, already under" in up.cli("keys", "rotate")
        assert "retired 1" in up.cli("keys", "retire")

        # Retention: a's situation closed; 181 days later its data goes, b's and c's stay.
        req = {"to": "closed", "reason": "resolved"}
        assert up.post(f"/api/situations/{sit_a}/state", req, coordinator) == 202
        wait_until(lambda: up.get(f"/api/situations/{sit_a}", coordinator)[1]["state"] == "closed")
        later = (datetime.now(UTC) + timedelta(days=181)).date().isoformat()
        listed = up.cli("retention", "run", "--dry-run", "--as-of", later)
        assert str(a["id"]) in listed
        assert f"situation {sit_a} closed" in listed
        assert str(b["id"]) not in listed
        assert "1 would be erased" in listed
        assert "erased 1" in up.cli("retention", "run", "--as-of", later)
        a_key = wait_until(
            lambda: [k for k in data_keys(up).values() if k.subject == a["id"]] == []
        )
        assert a_key
        # The archive keeps no copy of the erased key; a restart does not bring it back.
        up.stop(signal.SIGTERM)
        up.start()
        assert sorted(k.subject for k in data_keys(up).values()) == sorted([b["id"], c["id"]])
        found = up.cli("persons", "find", "--contact", "ilse.1@example.org", "--reason", "r")
        assert "0 signals" in found
        found = up.cli("persons", "find", "--contact", "ILSE.3@example.org", "--reason", "r")
        assert str(c["id"]) in found
        logs = b"".join(p.read_bytes() for p in up.home.glob("up*.log"))
        assert b"Marchetti" not in logs
        assert b"ilse." not in logs
    finally:
        if up.proc and up.proc.poll() is None:
            up.stop(signal.SIGTERM)
