"""The coordinators' notice that an area is full: its open situations hold as many signals
as Concord can keep for one area (its state is one Kafka record:
`agents.correlate.AreaFull`). Further reports there are dead letters until a coordinator
closes or splits a situation and replays them."""

from __future__ import annotations

from concord.notifiers import cards, forms
from concord.notifiers.base import Message, Recipient
from concord.notifiers.render import Renderer, notice
from concord.streams.situations import Situation


def full_notice(
    renderer: Renderer,
    area_name: str,
    count: int,
    largest: Situation,
    recipient: Recipient,
    kept: frozenset[forms.Form] = forms.EVERY,
) -> Message:
    """The notice for one coordinator, in their language and the forms `kept`, with a
    link to the area's largest situation on the board (where it is closed or split)."""
    lang = recipient.language
    link = f"{renderer.public_url}/board/{largest.id}"
    ctx = {
        "recipient": recipient,
        "area_name": area_name,
        "count": count,
        "exercise": largest.exercise,
        "link": link,
    }
    texts = renderer.texts("full", lang, ctx, with_slack="slack" in kept)
    card = None
    if "card" in kept:
        label = cards.OPEN_SITUATION
        card = renderer.notice_card(texts, link, largest.exercise, lang, label)
    return notice(f"full.{largest.id}.{recipient.id}", recipient, texts, largest.exercise, card)
