"""What integration tests look for in the outbox."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from pydantic import SecretStr

from concord.core.correlation import situation_id
from concord.core.planning import task_id
from concord.embedded.outbox import CapturedEmail, CapturedSlack, Outbox
from concord.privacy.keys import Sealer, key_id, latest_keys
from concord.streams.audit import AuditEntry, AuditRecord
from concord.streams.keys import DataKey
from tests.conftest import Worker, private_worker, wait_until

#: Two tasks per signal tagged `outage-test`: one by email, one by Slack (a carrier's
#: outage, a crash in the middle of a batch).
OUTAGE_PLAYBOOK = """
id: outage-test
version: 1
title: Outage test
when:
  tags: [outage-test]
tasks:
  - id: mail
    agency: victim-support
    title: By email
    action: An email task in {{ area.name }}.
    channels: [email]
  - id: chat
    agency: ngo-antiracism
    title: By Slack
    action: A Slack task in {{ area.name }}.
    channels: [slack]
"""


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


def sign_in_mails(outbox: Outbox, email: str) -> list[CapturedEmail]:
    return [m for m in outbox.emails() if m.rcpt_to == [email] and "Sign-in" in m.subject]


def sign_in_link(outbox: Outbox, email: str, after: int = 0) -> str:
    """The path of the latest sign-in link emailed to `email` once more than `after`
    such emails arrived (waits for it)."""
    mail = outbox.wait_for(lambda o: len(found := sign_in_mails(o, email)) > after and found)[-1]
    found = re.search(r"https://concord\.city\.example(/login/\S+)", mail.text)
    assert found is not None, mail.text
    return found.group(1)


def audit_entries(worker: Worker, subject: str, action: str) -> list[AuditEntry]:
    """The `action` entries about `subject` on `concord.audit` so far."""
    return [e for e in audit_of(worker, action) if e.subject == subject]


def audit_of(worker: Worker, action: str) -> list[AuditEntry]:
    """Every `action` entry on `concord.audit` so far, whatever its subject."""
    return [
        entry
        for _, value in records(worker, "concord.audit")
        for entry in AuditRecord.model_validate_json(value or b"").entries
        if entry.action == action
    ]


def records(worker: Worker, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of a topic so far, as (key, value)."""
    return read_topic(worker.env["CONCORD_BROKER"].split("://", 1)[1], topic)


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of a topic up to its end when called, as (key, value), in each
    partition's order."""
    return [(r.key, r.value) for r in read_records(bootstrap, topic)]


def read_records(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic up to its end when called (kafka-python's records: with
    partition and offset), in each partition's order.

    Read to the end offsets rather than until a second of silence: a test that scans
    forty topics would otherwise wait forty seconds. The broker's end offset may be
    short by its last batch (Tansu answers the batch's base + 1), but a fetch returns
    whole batches: once a partition's position passes the reported end, the batch that
    holds the true end has been read."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        numbers = wait_until(lambda: consumer.partitions_for_topic(topic), timeout=10)
        parts = [TopicPartition(topic, p) for p in sorted(numbers)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found: list[Any] = []
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, f"{topic}: not read to {ends}"
            for batch in consumer.poll(timeout_ms=200).values():
                found.extend(batch)
        return found
    finally:
        consumer.close()


def live_keys(worker: Worker) -> dict[str, DataKey]:
    """The data keys on `concord.keys` now (tombstoned ones gone)."""
    return latest_keys((k.decode() if k else "", v) for k, v in records(worker, "concord.keys"))


def sealer_of(worker: Worker) -> Sealer:
    """The worker's sealer (its key ring from the key file)."""
    key = (worker.data_dir / "keys" / "data_key").read_text().strip()
    return Sealer(SecretStr(key))


def unsealer(worker: Worker) -> Callable[[str], bytes]:
    """Opens sealed values with the worker's keys, read from `concord.keys` once and again
    only for a key newer than the last read."""
    sealer, keys = sealer_of(worker), live_keys(worker)

    def unseal(sealed: str) -> bytes:
        nonlocal keys
        wanted = key_id(sealed)
        if wanted is not None and wanted not in keys:
            keys = live_keys(worker)
        return sealer.open(sealed, keys)

    return unseal


class WebClient:
    """A minimal browser for pages: keeps cookies (also `Secure` ones over plain http, as
    Chromium does on 127.0.0.1), follows redirects, sends the Origin a browser would."""

    def __init__(self, base: str, language: str = "en") -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        #: a browser says which language it reads (else pages speak the city's first)
        self.language = language

    def _keep(self, headers: Any) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            content = rest.split(";", 1)[0]
            if "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = content

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """GET (or POST `form`) `path`; returns (status, final path, body)."""
        import urllib.error
        import urllib.parse
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect())
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        for _ in range(5):
            req = urllib.request.Request(self.base + path, data=data)
            req.add_header("Accept-Language", self.language)
            if self.cookies:
                req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            if data is not None:
                req.add_header("Origin", self.base)
                req.add_header("Content-Type", "application/x-www-form-urlencoded")
            try:
                with opener.open(req, timeout=15) as resp:
                    self._keep(resp.headers)
                    return resp.status, path, resp.read().decode()
            except urllib.error.HTTPError as exc:
                self._keep(exc.headers)
                if exc.code in (302, 303) and exc.headers.get("Location"):
                    path, data = exc.headers["Location"], None
                    continue
                return exc.code, path, exc.read().decode()
        raise AssertionError("too many redirects")

    def csrf(self, page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None, page
        return found.group(1)

    def ask_link(self, email: str, next_: str = "") -> tuple[int, str]:
        """Fill in the sign-in form as a person would; returns (status, page)."""
        _, _, page = self.open("/login")
        status, _, answer = self.open(
            "/login", {"email": email, "next": next_, "csrf": self.csrf(page)}
        )
        return status, answer

    def sign_in(self, outbox: Outbox, email: str, next_: str = "") -> tuple[str, str]:
        """Ask for a link, open it, confirm: (the page landed on, its body)."""
        before = len(sign_in_mails(outbox, email))
        self.ask_link(email, next_)
        link = sign_in_link(outbox, email, before)
        status, _, confirm = self.open(link)
        assert status == 200, confirm
        assert 'id="sign-in"' in confirm, confirm
        next_field = re.search(r'name="next" value="([^"]*)"', confirm)
        status, landed, body = self.open(
            link.split("?", 1)[0], {"next": next_field.group(1) if next_field else ""}
        )
        return landed, body


def raw_http(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str],
    parts: list[bytes],
    *,
    pause: float = 0.5,
    chunked: bool = False,
) -> tuple[int, bytes]:
    """Send a request whose body leaves in several TCP writes, `pause` seconds apart (as a
    slow client or a proxy does), optionally chunked; return (status, body)."""
    import http.client
    import socket
    import time
    from urllib.parse import urlsplit

    where = urlsplit(base)
    sock = socket.create_connection((where.hostname, where.port), timeout=15)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: {where.netloc}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if chunked:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append(f"Content-Length: {sum(len(p) for p in parts)}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for i, part in enumerate(parts):
            if i:
                time.sleep(pause)
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()
    finally:
        sock.close()


def signed_slack(payload: object, secret: str, age: int = 0) -> tuple[dict[str, str], bytes]:
    """Headers and body of a request signed the way Slack signs them."""
    import hashlib
    import hmac
    import json
    import time
    import urllib.parse

    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) - age)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
    }
    return headers, body


def browser_sign_in(
    browser: Any, worker: Worker, outbox: Outbox, email: str, landing: str
) -> list[Any]:
    """Sign in from the form in a new browser context, as a person would (the link from
    the email, then its button); the session's cookies, once on `landing`."""
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        before = len(sign_in_mails(outbox, email))
        page.goto(worker.base + "/login")
        page.fill("input[name=email]", email)
        page.click("button[type=submit]")
        page.goto(worker.base + sign_in_link(outbox, email, before))
        page.click("#sign-in")
        page.wait_for_url(re.compile(re.escape(landing) + "$"))
        assert page.url == worker.base + landing, (email, page.url)
        cookies: list[Any] = context.cookies()
        return cookies
    finally:
        context.close()


@contextlib.contextmanager
def worker_of_its_own(
    request: pytest.FixtureRequest, name: str, **settings: str
) -> Iterator[tuple[Worker, str]]:
    """A module's own worker (its broker, its data), with the session's carriers: when the
    session's worker will not do (a limit already reached, settings of its own)."""
    root = request.getfixturevalue("tmp_path_factory").mktemp(name)
    smtp = request.getfixturevalue("smtp_server")
    slack = request.getfixturevalue("slack_server")
    standin = request.getfixturevalue("standin_server")
    with private_worker(smtp, slack, root, {}, standin, **settings) as made:
        yield made
