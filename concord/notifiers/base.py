"""The notifier contract: one module per channel implements `Notifier`.

A notifier sends one rendered `Message` and returns a `Sent`, or raises `SendError`
saying whether trying again can help (`retryable`) and after how long (`retry_after`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Recipient:
    """Where a message goes: a liaison or panel member, as the directory knows them."""

    id: str
    name: str
    language: str = "en"
    email: str | None = None
    slack_channel: str | None = None
    slack_user: str | None = None


@dataclass(frozen=True)
class Message:
    """A notification rendered for one recipient, in every form the channels need."""

    key: str  # idempotency key: same key, same message
    recipient: Recipient
    subject: str
    text: str
    html: str
    slack_text: str
    slack_blocks: list[dict[str, object]]
    exercise: bool = False
    resend: bool = False  # a delivery a crash left in doubt, sent again


@dataclass(frozen=True)
class Sent:
    """What the carrier said: its id for the message (Message-ID, Slack ts)."""

    provider_id: str
    address: str


class SendError(Exception):
    """A send failed. `retryable`: a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class NotAddressable(SendError):
    """The recipient has no address on this channel (try the next channel)."""

    def __init__(self, channel: str, recipient: Recipient) -> None:
        super().__init__(f"{recipient.id} has no {channel} address", retryable=False)


@runtime_checkable
class Notifier(Protocol):
    """A channel: `send` one message, return a `Sent` or raise `SendError`."""

    channel: str

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient has an address on this channel."""
        ...

    async def send(self, message: Message) -> Sent:
        """Deliver the message; raise SendError on failure."""
        ...

    async def lookup(self, message: Message) -> Sent | None:
        """After a crash mid-send: the carrier's record of this message, if it can tell.

        Returns None when the message is not found or the carrier cannot be asked.
        """
        ...
