"""The delivery stage on the real broker, SMTP and Slack API (issue #11): a carrier's
outage holds back no other, nothing is abandoned after seconds, retries survive a
restart, and every message is delivered once per key, also across a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from kafka import KafkaProducer
from pydantic import SecretStr

from concord.access.links import Signer
from concord.common.types import utcnow
from concord.config.directory import load_directory
from concord.delivery.compose import Compose
from concord.embedded.net import free_port
from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from concord.notifiers.render import Renderer
from concord.streams.delivery import DeliveryRequest
from tests.conftest import ROOT, Worker, make_signal, private_worker, restart, wait_until
from tests.integration.helpers import (
    OUTAGE_PLAYBOOK,
    audit_entries,
    emails_for,
    records,
    slack_for,
    task_of,
)
from tests.unit.factories import make_task

pytestmark = pytest.mark.integration


class Smtp:
    """An SMTP server that can go down and come back on the same port."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.port = free_port()
        self.capture: SmtpCapture | None = SmtpCapture(outbox, port=self.port).start()
        self.host = "127.0.0.1"

    def down(self) -> None:
        if self.capture is not None:
            self.capture.stop()
            self.capture = None

    def up(self) -> None:
        if self.capture is None:
            self.capture = SmtpCapture(self.outbox, port=self.port).start()


@pytest.fixture(scope="module")
def outage(
    outbox: Outbox, slack_server: SlackApiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Worker, str, Smtp]]:
    smtp = Smtp(outbox)
    root = tmp_path_factory.mktemp("outage")
    try:
        with private_worker(
            smtp,  # type: ignore[arg-type]  # host and port, like an SmtpCapture
            slack_server,
            root,
            {"outage-test.yml": OUTAGE_PLAYBOOK},
            slack_channel_interval_seconds="0",
            retry_base_seconds="0.2",
            retry_cap_seconds="1",
        ) as (w, producer):
            yield w, producer, smtp
    finally:
        smtp.down()


def post(w: Worker, producer: str, **kw: Any) -> dict[str, Any]:
    signal = make_signal(kind="tension", category="other", severity=1, tags=["outage-test"], **kw)
    assert w.request("POST", "/api/signals", signal, token=producer).status == 202
    return signal


def test_smtp_down_holds_back_no_slack_message_and_mail_follows_once_after_a_restart(
    outage: tuple[Worker, str, Smtp], outbox: Outbox
) -> None:
    w, producer, smtp = outage
    smtp.down()
    try:
        signals = [post(w, producer) for _ in range(4)]
        mails = [task_of(s, "outage-test", "mail") for s in signals]
        chats = [task_of(s, "outage-test", "chat") for s in signals]
        # Slack flows while SMTP refuses every connection.
        outbox.wait_for(lambda o: all(slack_for(o, t) for t in chats), timeout=15)
        assert not any(emails_for(outbox, t) for t in mails)
        # The backlog is visible: queued, aged, and the carrier named degraded.
        wait_until(lambda: w.metric('concord_delivery_queue{channel="email"}') >= 4)
        health = wait_until(
            lambda: (b := w.request("GET", "/healthz").body)["degraded_carriers"].get("email") and b
        )
        assert health["status"] == "degraded"
        assert "slack" not in health["degraded_carriers"]
        assert "4 pending" in health["degraded_carriers"]["email"]
        # The worker restarts while the emails wait for their next attempt...
        restart(w)
    finally:
        smtp.up()
    # ...and each arrives exactly once when SMTP is back.
    outbox.wait_for(lambda o: all(emails_for(o, t) for t in mails), timeout=60)
    wait_until(lambda: w.metric('concord_delivery_queue{channel="email"}') == 0, timeout=30)
    assert [len(emails_for(outbox, t)) for t in mails] == [1, 1, 1, 1]
    assert [len(slack_for(outbox, t)) for t in chats] == [1, 1, 1, 1]
    wait_until(lambda: not w.request("GET", "/healthz").body["degraded_carriers"], timeout=30)


def test_slack_429s_then_500s_are_waited_out_and_the_message_goes_once(
    outage: tuple[Worker, str, Smtp], outbox: Outbox, slack_server: SlackApiServer
) -> None:
    w, producer, _smtp = outage
    slack_server.fail_next(5, "ratelimited", status=429, retry_after=1, channel="C-NGO")
    slack_server.fail_next(5, "internal_error", status=500, channel="C-NGO")
    signal = post(w, producer)
    chat = task_of(signal, "outage-test", "chat")
    outbox.wait_for(lambda o: slack_for(o, chat), timeout=60)
    coordinator = w.cli("token", "create", "outage-coordinator", "--role", "coordinator")
    token = coordinator.stdout.decode().strip()
    task = wait_until(
        lambda: (
            (r := w.request("GET", "/api/tasks?agency=ngo-antiracism", token=token)).status == 200
            and next((t for t in r.body if t["id"] == chat and t.get("delivery")), None)
        )
    )
    assert task["delivery"]["state"] == "delivered"
    assert task["delivery"]["attempts"] == 11
    assert len(slack_for(outbox, chat)) == 1


def test_a_message_in_doubt_after_a_crash_is_not_sent_again(
    outage: tuple[Worker, str, Smtp], outbox: Outbox, slack_server: SlackApiServer
) -> None:
    w, producer, _smtp = outage
    # Slack records the message, then takes 5 s to answer: the worker dies meanwhile. Only
    # this message: another worker of the session may be writing to the channel too.
    signal = make_signal(kind="tension", category="other", severity=1, tags=["outage-test"])
    chat = task_of(signal, "outage-test", "chat")
    slack_server.slow_next(1, 5.0, channel="C-NGO", containing=chat)
    assert w.request("POST", "/api/signals", signal, token=producer).status == 202
    outbox.wait_for(lambda o: slack_for(o, chat), timeout=30)
    restart(w, kill=True)
    # Taken up again in doubt: Slack is asked (by the message's metadata key) and has it.
    wait_until(lambda: audit_entries(w, chat, "delivery.confirmed_after_restart"), timeout=60)
    assert len(slack_for(outbox, chat)) == 1


def test_a_request_seen_twice_is_delivered_once(worker: Worker, outbox: Outbox) -> None:
    """What a crash after posting replays: the same request on concord.outgoing again."""
    directory = load_directory(ROOT / "directory.yml")
    compose = Compose(
        directory,
        Renderer("Europe/Brussels", "https://concord.city.example"),
        Signer(SecretStr("x" * 32)),
        "https://concord.city.example/t/",
        timedelta(hours=1),
    )
    task = make_task(id=f"task-replay-{utcnow().timestamp():.0f}")
    notice = compose.notices(
        "escalated", task, ["coord"], "escalated to the coordinator", utcnow()
    )[0]
    login = compose.sign_in(
        "coord", "coordination@concordia.example", "link", "tok-replay-123", utcnow()
    )
    producer = KafkaProducer(bootstrap_servers=worker.env["CONCORD_BROKER"].split("://", 1)[1])
    for outgoing in (notice, login):
        request = DeliveryRequest(key=outgoing.key, outgoing=outgoing)
        for _ in range(2):
            producer.send(
                "concord.outgoing",
                key=outgoing.key.encode(),
                value=request.model_dump_json().encode(),
            )
    producer.flush()
    producer.close()

    def mails(key: str) -> list[Any]:
        return [
            m for m in outbox.emails() if m.headers.get("Message-ID", "").startswith(f"<{key}@")
        ]

    outbox.wait_for(lambda o: mails(notice.key) and mails(login.key), timeout=30)
    states = [
        json.loads(v or b"")
        for k, v in records(worker, "concord.delivery-state")
        if k in (notice.key.encode(), login.key.encode())
    ]
    assert {s["state"] for s in states} >= {"delivered"}
    assert (len(mails(notice.key)), len(mails(login.key))) == (1, 1)
