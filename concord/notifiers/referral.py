"""Messages about reports: the referral to a competent body (`concord.core.referral`),
and the receipt of a report sent by email."""

from __future__ import annotations

from typing import Any

from concord.notifiers import cards, forms
from concord.notifiers.base import Message, Recipient
from concord.notifiers.render import Renderer, notice


def referral_message(
    r: Renderer,
    key: str,
    recipient: Recipient,
    link: str,
    facts: dict[str, Any],
    kept: frozenset[forms.Form] = forms.EVERY,
) -> Message:
    """A report referred to a competent body: what happened, where and when, and a
    link to the referral; never the report's text nor a person. In the forms `kept`
    besides its subject and text (it has no HTML)."""
    lang = recipient.language
    ctx = {**facts, "lang": lang, "link": link, "category": r.words(facts["category"], lang)}
    texts = r.texts("referral", lang, ctx, with_slack="slack" in kept)
    card = None
    if "card" in kept:
        card = r.notice_card(texts, link, bool(facts["exercise"]), lang, cards.OPEN_REFERRAL)
    return notice(key, recipient, texts, bool(facts["exercise"]), card)


def mail_receipt(r: Renderer, recipient: Recipient, facts: dict[str, Any]) -> Message:
    """The receipt of a report sent by email: its code, its status link, what was not
    kept; never the report's text."""
    lang = recipient.language
    # What the form would say about each file left out, in the sender's language.
    refused = [r.say(why, lang) % {"file": name} for name, why in facts["refused"]]
    ctx = {**facts, "refused": refused, "lang": lang}
    texts = r.texts("mail_receipt", lang, ctx, with_slack=False)  # by email only
    return Message(
        key=f"receipt.{facts['receipt']}",
        recipient=recipient,
        subject=texts.subject,
        text=texts.text,
    )
