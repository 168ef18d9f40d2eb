"""What integration tests look for in the outbox."""

from __future__ import annotations

import re

from kafka import KafkaConsumer

from concord.core.correlation import situation_id
from concord.core.planning import task_id
from concord.embedded.outbox import CapturedEmail, CapturedSlack, Outbox
from concord.streams.models import AuditEntry
from tests.conftest import Worker


def task_of(signal: dict[str, object], playbook: str, key: str) -> str:
    """The id of the task `key` of `playbook` fired by the situation `signal` opens."""
    return task_id(situation_id(str(signal["id"]), str(signal["area"])), playbook, key)


def emails_for(outbox: Outbox, task: str) -> list[CapturedEmail]:
    return [
        m
        for m in outbox.emails()
        if m.headers.get("Message-ID", "").strip().startswith(f"<{task}.")
    ]


def slack_for(outbox: Outbox, task: str) -> list[CapturedSlack]:
    return [
        c
        for c in outbox.slack()
        if str(c.payload.get("metadata", {}).get("event_payload", {}).get("key", "")).startswith(
            f"{task}."
        )
    ]


def panel_notices(outbox: Outbox, situation: str, kind: str = "opened") -> list[CapturedSlack]:
    """The panel channel's Slack notices about a situation's review."""
    prefix = f"review.{situation}."
    return [
        c
        for c in outbox.slack()
        if str(c.payload.get("metadata", {}).get("event_payload", {}).get("key", "")).startswith(
            prefix
        )
        and f".{kind}." in str(c.payload["metadata"]["event_payload"]["key"])
    ]


def panel_emails(outbox: Outbox, situation: str, kind: str = "opened") -> list[CapturedEmail]:
    """The panel members' emails about a situation's review."""
    prefix = f"<review.{situation}."
    return [
        m
        for m in outbox.emails()
        if m.headers.get("Message-ID", "").strip().startswith(prefix)
        and f".{kind}." in m.headers.get("Message-ID", "").strip()
    ]


def sign_in_link(outbox: Outbox, email: str) -> str:
    """The path of the latest sign-in link emailed to `email` (waits for it)."""
    mail = outbox.wait_for(
        lambda o: [m for m in o.emails() if m.rcpt_to == [email] and "Sign-in" in m.subject]
    )[-1]
    found = re.search(r"https://concord\.city\.example(/login/\S+)", mail.text)
    assert found is not None, mail.text
    return found.group(1)


def audit_entries(worker: Worker, subject: str, action: str) -> list[AuditEntry]:
    """The `action` entries about `subject` on `concord.audit` so far."""
    consumer = KafkaConsumer(
        "concord.audit",
        bootstrap_servers=worker.env["CONCORD_BROKER"].split("://", 1)[1],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    try:
        return [
            entry
            for record in consumer
            if record.key == subject.encode()
            and (entry := AuditEntry.model_validate_json(record.value)).action == action
        ]
    finally:
        consumer.close()
