"""Webhooks for other systems: a signed CloudEvent (or CAP 1.2 alert) per event.

- The body is a CloudEvents 1.0 event in structured JSON mode
  (`application/cloudevents+json`; the `cloudevents` package), or, for a subscription
  with `format: cap`, a CAP 1.2 alert (`application/cap+xml`).
- It is signed per Standard Webhooks (the `standardwebhooks` reference library):
  `webhook-id` is the message key (the same on every resend, so a receiver deduplicates
  on it), `webhook-timestamp` the time of this attempt, `webhook-signature` `v1,<HMAC>`.
- Each subscriber is its own lane (`delivery.lanes`): a slow or failing receiver holds
  back no other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook

from concord.notifiers.base import Message, NotAddressable, Recipient, SendError, Sent
from concord.notifiers.http import Addresses, Poster, PostOnly

#: The CloudEvents `source` of every event Concord sends.
SOURCE = "/concord"
CAP_TYPE = "application/cap+xml"


def body(message: Message) -> tuple[bytes, dict[str, str]]:
    """The request body and its content type: the CloudEvent, or the CAP alert."""
    event = message.event
    if event is None:
        raise SendError("a webhook message carries an event", retryable=False)
    if event.cap is not None:
        return event.cap.encode(), {"Content-Type": CAP_TYPE}
    attributes = {
        "id": event.id,
        "source": SOURCE,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": "application/json",
    }
    http = to_structured_event(CloudEvent(attributes, dict(event.data)))
    return http.body, {"Content-Type": http.headers["content-type"]}


def signed(secret: str, key: str, at: datetime, payload: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    signature = Webhook(secret).sign(key, at, payload.decode())
    return {
        "webhook-id": key,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


class WebhookNotifier(PostOnly):
    """POSTs each event, signed, to its subscriber."""

    channel = "webhook"

    def __init__(
        self,
        addresses: Addresses,
        poster: Poster | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._addresses = addresses
        self._poster = poster or Poster("webhook")
        self._clock = clock

    def __repr__(self) -> str:
        return "WebhookNotifier()"

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient is a subscriber."""
        return bool(recipient.webhook_url and recipient.webhook_secret)

    async def send(self, message: Message) -> Sent:
        """Sign and POST the event."""
        r = message.recipient
        if not (r.webhook_url and r.webhook_secret):
            raise NotAddressable(self.channel, r)
        payload, headers = body(message)
        url, secret = self._addresses.subscriber(r.id, r.webhook_url, r.webhook_secret)
        try:
            headers |= signed(secret, message.key, self._clock(), payload)
        except ValueError as exc:  # a secret that is not whsec_/base64: the config is wrong
            raise SendError(f"webhook {r.id}: unusable secret ({exc})", retryable=False) from exc
        await self._poster.post(url, payload, headers)
        return Sent(provider_id=f"webhook:{message.key}", address=r.id)
