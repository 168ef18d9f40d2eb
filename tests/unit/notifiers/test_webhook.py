"""Webhook events (concord.notifiers.webhook): CloudEvents 1.0 structured mode, signed per
Standard Webhooks, checked with the reference libraries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from concord.notifiers.base import SendError
from concord.notifiers.webhook import body, signed
from concord.streams.delivery import Event, Message, Recipient

SECRET = "whsec_" + base64.b64encode(b"a-secret-of-24-bytes-ok!").decode()
AT = datetime(2026, 12, 6, 12, tzinfo=UTC)


def message(**event: object) -> Message:
    e = Event.model_validate(
        {"id": "t-1.task.done.1", "type": "org.concord.task.done", "subject": "t-1",
         "time": AT, "data": {"task": "t-1", "state": "done"}, **event}
    )  # fmt: skip
    return Message(
        key="t-1.task.done.1.cases", recipient=Recipient(id="cases", name="cases"),
        subject="task.done", text="", event=e,
    )  # fmt: skip


def test_a_cloudevent_in_structured_json_mode() -> None:
    payload, headers = body(message())
    assert headers == {"Content-Type": "application/cloudevents+json"}
    parsed = from_structured_event(HTTPMessage({"content-type": headers["Content-Type"]}, payload))
    attributes = parsed.get_attributes()
    assert attributes["specversion"] == "1.0"
    assert (attributes["id"], attributes["type"], attributes["source"]) == (
        "t-1.task.done.1", "org.concord.task.done", "/concord",
    )  # fmt: skip
    assert attributes["subject"] == "t-1"
    assert parsed.get_data() == {"task": "t-1", "state": "done"}


def test_a_cap_alert_instead() -> None:
    payload, headers = body(message(cap="<alert/>"))
    assert (payload, headers) == (b"<alert/>", {"Content-Type": "application/cap+xml"})


def test_the_reference_library_verifies_the_signature() -> None:
    payload, _ = body(message())
    # Signed as of now: receivers refuse a timestamp more than 5 minutes away.
    headers = signed(SECRET, "t-1.task.done.1.cases", datetime.now(UTC), payload)
    assert headers["webhook-id"] == "t-1.task.done.1.cases"  # the same on every resend
    assert headers["webhook-signature"].startswith("v1,")
    receiver = Webhook(SECRET)
    assert json.loads(json.dumps(receiver.verify(payload, headers)))["id"] == "t-1.task.done.1"
    with pytest.raises(WebhookVerificationError):
        receiver.verify(payload.replace(b"done", b"open"), headers)


def test_a_message_without_an_event_is_refused() -> None:
    with pytest.raises(SendError) as refused:
        body(message().model_copy(update={"event": None}))
    assert not refused.value.retryable


def test_a_secret_that_is_not_a_standard_webhooks_key_is_a_permanent_failure() -> None:
    import asyncio

    from concord.common.secrets import SecretRef
    from concord.notifiers.http import Addresses
    from concord.notifiers.webhook import WebhookNotifier

    to = Recipient(
        id="cases",
        name="cases",
        webhook_url="http://127.0.0.1:9/",
        webhook_secret=SecretRef(env="S"),
    )
    notifier = WebhookNotifier(Addresses(environ={"S": "whsec_!!not-base64"}))
    with pytest.raises(SendError) as refused:  # before anything is posted
        asyncio.run(notifier.send(message().model_copy(update={"recipient": to})))
    assert not refused.value.retryable
    assert "unusable secret" in str(refused.value)
    unset = WebhookNotifier(Addresses(environ={}))
    with pytest.raises(SendError, match="is not set"):
        asyncio.run(unset.send(message().model_copy(update={"recipient": to})))
