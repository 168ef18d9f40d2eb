"""The forms of a message each channel sends.

Every `Message` has a subject and a plain text. Besides them a channel sends one form of
its own: email its HTML part, Slack its mrkdwn and blocks, the chat channels (Teams,
Matrix, Mattermost, Rocket.Chat) a card; a webhook sends an event, built apart. A
message is rendered only in the forms of the channels it may go through (its
`Outgoing.channels`, fallbacks included): the other forms would be rendered, carried on
`concord.outgoing` and kept in the `deliveries` table for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Form = Literal["html", "slack", "card"]

#: Every form: what a message gets when one of its channels is not in `BY_CHANNEL`.
EVERY: frozenset[Form] = frozenset(("html", "slack", "card"))

#: Channel -> the forms it sends, beside the subject and the text.
BY_CHANNEL: dict[str, frozenset[Form]] = {
    "email": frozenset(("html",)),
    "slack": frozenset(("slack",)),
    "teams": frozenset(("card",)),
    "matrix": frozenset(("card",)),
    "mattermost": frozenset(("card",)),
    "rocketchat": frozenset(("card",)),
    "webhook": frozenset(),
}


def of(channels: Iterable[str]) -> frozenset[Form]:
    """The forms a message needs to go through any of `channels`."""
    found: frozenset[Form] = frozenset()
    for channel in channels:
        found |= BY_CHANNEL.get(channel, EVERY)
    return found
