"""Slack Block Kit pieces of panel messages, and the words of Slack and email buttons
per language."""

from __future__ import annotations

#: Button labels of panel messages, per language.
LABELS = {
    "en": {
        "approve": "Approve",
        "reject": "Reject",
        "conflict": "Conflict of interest",
        "open": "Open the review",
        "ack": "Acknowledge",
        "decline": "Decline",
        "done": "Done",
        "open_task": "Open task",
    },
    "fr": {
        "approve": "Approuver",
        "reject": "Rejeter",
        "conflict": "Conflit d'intérêts",
        "open": "Ouvrir la revue",
        "ack": "Prendre en charge",
        "decline": "Refuser",
        "done": "Terminé",
        "open_task": "Ouvrir la tâche",
    },
    "nl": {
        "approve": "Goedkeuren",
        "reject": "Afwijzen",
        "conflict": "Belangenconflict",
        "open": "Beoordeling openen",
        "ack": "Bevestigen",
        "decline": "Weigeren",
        "done": "Klaar",
        "open_task": "Taak openen",
    },
}
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
