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

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
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
        self._controller = Controller(_Handler(outbox), hostname=self.host, port=self.port)

    def start(self) -> SmtpCapture:
        """Start listening; returns self."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()
