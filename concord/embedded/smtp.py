"""A local SMTP capture (aiosmtpd) that stores every message in an Outbox."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from aiosmtpd.controller import Controller

from concord.embedded.net import free_port
from concord.embedded.outbox import CapturedEmail, Outbox


class _Handler:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        #: answers to give instead of accepting, oldest first ("421 ...", "550 ...")
        self.failures: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.failures and self.failures[0].startswith("5"):
            return self.failures.pop(0)  # a permanent refusal names the recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failures:
            return self.failures.pop(0)
        raw = bytes(envelope.original_content or envelope.content)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text_part = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
        self.outbox.add_email(
            CapturedEmail(
                mail_from=envelope.mail_from,
                rcpt_to=list(envelope.rcpt_tos),
                subject=str(msg["Subject"] or ""),
                text=text_part.get_content() if text_part else "",
                html=html_part.get_content() if html_part else "",
                headers={k: str(v) for k, v in msg.items()},
                raw=raw,
            )
        )
        return "250 Message accepted for delivery"


class SmtpCapture:
    """aiosmtpd in its own thread on 127.0.0.1:PORT (a free port picked first)."""

    def __init__(self, outbox: Outbox, port: int | None = None) -> None:
        self.outbox = outbox
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self._handler = _Handler(outbox)
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    def fail_next(self, count: int, answer: str) -> None:
        """Answer the next `count` messages with `answer` ("421 Try later": at DATA;
        "550 No such user": at RCPT) instead of taking them."""
        self._handler.failures += [answer] * count

    def start(self) -> SmtpCapture:
        """Start listening; returns self."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()
