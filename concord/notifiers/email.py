"""Email through any SMTP server, with aiosmtplib: text + HTML, deterministic Message-ID."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr

from concord.common.text import one_line
from concord.notifiers.base import Message, NotAddressable, Recipient, SendError, Sent


class EmailNotifier:
    """Sends a message as a multipart (text, HTML) email."""

    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._user, self._password, self._starttls = user, password, starttls
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"EmailNotifier({self.host}:{self.port}, from={self.sender})"

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient has an email address."""
        return bool(recipient.email)

    def build(self, message: Message) -> EmailMessage:
        """The MIME message (exposed for tests and previews)."""
        if not message.recipient.email:
            raise NotAddressable(self.channel, message.recipient)
        msg = EmailMessage()
        msg["From"] = self.sender
        # Header fields are one line each, whatever reached them: a CR/LF in a title
        # must neither add a header nor make the message unsendable.
        name, address = one_line(message.recipient.name), one_line(message.recipient.email)
        msg["To"] = email.utils.formataddr((name, address))
        msg["Subject"] = one_line(message.subject)
        msg["Date"] = email.utils.formatdate(localtime=False)
        # Same key, same Message-ID: a resend after a crash is recognisable as a duplicate.
        domain = self.sender.rsplit("@", 1)[-1] or "concord"
        msg["Message-ID"] = f"<{message.key}@{domain}>"
        if message.reply_to:  # a reply acts on the task (concord.core.mailin)
            msg["Reply-To"] = one_line(message.reply_to)
        if message.exercise:
            msg["X-Concord-Exercise"] = "yes"
        if message.resend:
            msg["X-Concord-Resend"] = "in-doubt"
        msg.set_content(message.text)
        if message.html:
            msg.add_alternative(message.html, subtype="html")
        return msg

    async def lookup(self, message: Message) -> Sent | None:
        """SMTP cannot be asked what it delivered: unknown."""
        return None

    async def update(self, message: Message) -> Sent:
        """An email cannot be changed once sent."""
        raise SendError("an email cannot be updated", retryable=False)

    async def send(self, message: Message) -> Sent:
        """Send the message by SMTP; raise `SendError` (retryable or not) on failure."""
        msg = self.build(message)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=self._user,
                password=self._password.get_secret_value() if self._password else None,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc}", retryable=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx are transient by definition of the protocol; 5xx are not.
            raise SendError(f"SMTP {exc.code}: {exc.message}", retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP unreachable: {exc}", retryable=True) from exc
        return Sent(provider_id=str(msg["Message-ID"]), address=str(message.recipient.email))
