"""Messages about reports: the referral to a competent body (`concord.core.referral`),
and the receipt of a report sent by email."""

from __future__ import annotations

from typing import Any

from concord.notifiers import cards
from concord.notifiers.base import Message, Recipient
from concord.notifiers.render import Renderer, section


def referral_message(
    r: Renderer, key: str, recipient: Recipient, link: str, facts: dict[str, Any]
) -> Message:
    """A report referred to a competent body: what happened, where and when, and a
    link to the referral; never the report's text nor a person."""
    lang = recipient.language
    ctx = {**facts, "lang": lang, "link": link, "category": r.words(facts["category"], lang)}
    texts = r.texts("referral", lang, ctx)
    card = cards.text_card(texts.subject, texts.text, link, cards.OPEN_REFERRAL, lang, r.say)
    return Message(
        key=key,
        recipient=recipient,
        subject=texts.subject,
        text=texts.text,
        slack_text=texts.slack,
        slack_blocks=section(texts.slack),
        exercise=bool(facts["exercise"]),
        card=cards.marked(card, bool(facts["exercise"]), lang, r.say),
    )


def mail_receipt(r: Renderer, recipient: Recipient, facts: dict[str, Any]) -> Message:
    """The receipt of a report sent by email: its code, its status link, what was not
    kept; never the report's text."""
    lang = recipient.language
    # What the form would say about each file left out, in the sender's language.
    refused = [r.say(why, lang) % {"file": name} for name, why in facts["refused"]]
    texts = r.texts("mail_receipt", lang, {**facts, "refused": refused, "lang": lang})
    return Message(
        key=f"receipt.{facts['receipt']}",
        recipient=recipient,
        subject=texts.subject,
        text=texts.text,
    )
