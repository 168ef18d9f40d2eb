"""The notifier contract: one module per channel implements `Notifier`.

A notifier sends one rendered `Message` and returns a `Sent`, or raises `SendError`
saying whether trying again can help (`retryable`) and after how long (`retry_after`).
Only the delivery stage (`concord.agents.deliver`) calls notifiers: it owns retries,
pacing, fallback and the one-delivery-per-key rule, so a notifier makes one attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from concord.streams.delivery import Message, Recipient

__all__ = ["Message", "NotAddressable", "Notifier", "Recipient", "SendError", "Sent"]


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


class Views(Protocol):
    """Opening a Slack modal in answer to a click: the one thing the web layer asks of a
    carrier besides delivery, given to it as this port (never the notifier itself)."""

    async def open_view(self, trigger_id: str, view: dict[str, object]) -> None:
        """Open `view` (views.open) for the interaction `trigger_id`."""
        ...


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

    async def update(self, message: Message) -> Sent:
        """Replace a message sent earlier (`message.update_ref`); raise SendError when the
        carrier cannot (email)."""
        ...
