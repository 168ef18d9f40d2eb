"""Microsoft Teams through a Workflows webhook ("post to a channel when a webhook request
is received"): the message as an Adaptive Card.

Office 365 connectors are retired; a Workflows flow takes `{"type": "message",
"attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", ...}]}` and
posts the card to its channel. It cannot call Concord back, so the card's buttons are
`Action.OpenUrl` links to the signed action pages (GET asks to confirm, POST acts).
The flow's URL is a credential: the directory only says where it is kept.
"""

from __future__ import annotations

from concord.common.text import chat_escape
from concord.notifiers.base import Message, NotAddressable, Recipient, Sent
from concord.notifiers.http import Addresses, Poster, PostOnly
from concord.streams.delivery import Card

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: The card version Teams renders on desktop, web and mobile.
VERSION = "1.4"
CARD = "application/vnd.microsoft.card.adaptive"


def _text(text: str) -> str:
    # A TextBlock folds single line breaks; two keep them.
    return chat_escape(text.strip()).replace("\n", "\n\n")


def adaptive_card(card: Card) -> dict[str, object]:
    """The Adaptive Card of a message's `Card`."""
    body: list[dict[str, object]] = []
    if card.banner:
        body.append(
            {
                "type": "TextBlock",
                "text": chat_escape(card.banner),
                "color": "Attention",
                "weight": "Bolder",
                "wrap": True,
            }
        )
    body.append(
        {
            "type": "TextBlock",
            "text": chat_escape(card.title),
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
        }
    )
    if card.text:
        body.append({"type": "TextBlock", "text": _text(card.text), "wrap": True})
    if card.facts:
        facts = [{"title": chat_escape(f.label), "value": chat_escape(f.value)} for f in card.facts]
        body.append({"type": "FactSet", "facts": facts})
    return {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": a.label, "url": a.url} for a in card.actions
        ],
        "msteams": {"width": "Full"},
    }


def envelope(message: Message) -> dict[str, object]:
    """What the Workflows trigger expects: a message with one Adaptive Card attachment."""
    card = message.card or Card(title=message.subject, text=message.text)
    return {
        "type": "message",
        "attachments": [{"contentType": CARD, "contentUrl": None, "content": adaptive_card(card)}],
    }


class TeamsNotifier(PostOnly):
    """Posts the message's card to the recipient's Workflows webhook."""

    channel = "teams"

    def __init__(self, addresses: Addresses, poster: Poster | None = None) -> None:
        self._addresses = addresses
        self._poster = poster or Poster("Teams")

    def __repr__(self) -> str:
        return "TeamsNotifier(workflows)"

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient (or its agency) has a Workflows webhook."""
        return recipient.teams_webhook is not None

    async def send(self, message: Message) -> Sent:
        """POST the card; Workflows answers 202 when it took it."""
        ref = message.recipient.teams_webhook
        if ref is None:
            raise NotAddressable(self.channel, message.recipient)
        await self._poster.post_json(self._addresses.url(self.channel, ref), envelope(message))
        return Sent(provider_id=f"teams:{message.key}", address=str(ref))
