"""Mattermost and Rocket.Chat through their incoming webhooks (Slack-compatible payloads).

Both take `{"text": ..., "attachments": [{"title", "text", "fields", "color"}]}` in their
Markdown. Outside text is escaped the same way as for Teams (`chat_escape`: no mention,
no `@channel`/`@all`/`@here`, no link, no tag of its own); the only links are Concord's
signed action pages. The webhook URL is a credential: the directory only says where it
is kept. One module, two channels: they differ only in name and address.
"""

from __future__ import annotations

from concord.common.secrets import SecretRef
from concord.common.text import chat_escape
from concord.notifiers.base import Message, NotAddressable, Recipient, Sent
from concord.notifiers.http import Addresses, Poster, PostOnly
from concord.streams.delivery import Card

#: The attachment's colour: a drill stands out.
COLOUR, DRILL = "#1d4ed8", "#d97706"


def _link(label: str, url: str) -> str:
    # Our own URL and a label of ours: brackets and parentheses cannot come from outside.
    return f"[{chat_escape(label).replace(']', ')')}]({url.replace(')', '%29')})"


def payload(message: Message) -> dict[str, object]:
    """The Slack-compatible webhook payload of a message."""
    card = message.card or Card(title=message.subject, text=message.text)
    text = chat_escape(card.text.strip())
    links = " · ".join(_link(a.label, a.url) for a in card.actions)
    attachment: dict[str, object] = {
        "fallback": chat_escape(card.title),
        "color": DRILL if message.exercise else COLOUR,
        "title": chat_escape(card.title),
        "text": f"{text}\n\n{links}".strip(),
        "fields": [
            {"title": chat_escape(f.label), "value": chat_escape(f.value), "short": True}
            for f in card.facts
        ],
    }
    head = f"**{chat_escape(card.banner)}**" if card.banner else ""
    return {"text": head, "attachments": [attachment]}


class WebhookChatNotifier(PostOnly):
    """Posts to the recipient's Mattermost or Rocket.Chat incoming webhook."""

    def __init__(self, channel: str, addresses: Addresses, poster: Poster | None = None) -> None:
        if channel not in ("mattermost", "rocketchat"):
            raise ValueError(f"not a webhook chat: {channel}")
        self.channel = channel
        self._addresses = addresses
        self._poster = poster or Poster("Mattermost" if channel == "mattermost" else "Rocket.Chat")

    def __repr__(self) -> str:
        return f"WebhookChatNotifier({self.channel})"

    def _ref(self, recipient: Recipient) -> SecretRef | None:
        if self.channel == "mattermost":
            return recipient.mattermost_webhook
        return recipient.rocketchat_webhook

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient (or its agency) has this chat's webhook."""
        return self._ref(recipient) is not None

    async def send(self, message: Message) -> Sent:
        """POST the payload to the webhook."""
        ref = self._ref(message.recipient)
        if ref is None:
            raise NotAddressable(self.channel, message.recipient)
        await self._poster.post_json(self._addresses.url(self.channel, ref), payload(message))
        return Sent(provider_id=f"{self.channel}:{message.key}", address=str(ref))
