"""Slack Block Kit pieces of panel messages, and the words of Slack and email buttons
(from the catalogues)."""

from __future__ import annotations

from concord.notifiers import cards

#: The words of buttons and links, by what they do (the catalogues translate them).
BUTTONS = {
    "approve": cards.APPROVE,
    "reject": cards.REJECT,
    "conflict": cards.CONFLICT,
    "open": cards.OPEN_REVIEW,
    "ack": cards.ACK,
    "decline": cards.DECLINE,
    "done": cards.DONE,
    "open_task": cards.OPEN_TASK,
}


def labels(say: cards.Say, language: str) -> dict[str, str]:
    """The words of every button in `language`."""
    return {action: say(words, language) for action, words in BUTTONS.items()}


VOTING = ("opened", "amended", "reminder", "stalled")


def review_buttons(
    labels: dict[str, str], url: str, value: str, voting: bool
) -> list[dict[str, object]]:
    """Open the review; and while the panel votes, Approve and Conflict of interest."""
    buttons: list[dict[str, object]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": labels["open"]},
            "url": url,
            "action_id": "review.open",
        }
    ]
    if voting:
        buttons += [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": labels["approve"]},
                "style": "primary",
                "action_id": "review.approve",
                "value": value,
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": labels["conflict"]},
                "action_id": "review.conflict",
                "value": value,
            },
        ]
    return buttons
