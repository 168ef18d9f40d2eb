"""Slack Block Kit pieces of task and panel messages, and the words of Slack and email
buttons (from the catalogues)."""

from __future__ import annotations

from concord.core.tasks import liaison_actions
from concord.notifiers import cards
from concord.streams.tasks import Task

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


def task_buttons(task: Task, words: dict[str, str], public_url: str) -> dict[str, object]:
    """Acknowledge / Decline / Done (while the task is open) and Open (`words`: `labels`)."""
    buttons: list[dict[str, object]] = []
    styles = {"ack": "primary", "decline": "danger", "done": None}
    for action in liaison_actions(task, announced=True):
        style = styles[action]
        button: dict[str, object] = {
            "type": "button",
            "text": {"type": "plain_text", "text": words[action]},
            "action_id": f"task.{action}",
            "value": task.id,
        }
        if style:
            button["style"] = style
        buttons.append(button)
    buttons.append(
        {
            "type": "button",
            "text": {"type": "plain_text", "text": words["open_task"]},
            "url": f"{public_url}/tasks/{task.id}",
            "action_id": "task.open",
        }
    )
    return actions(f"task:{task.id}", buttons)


def header(text: str) -> dict[str, object]:
    """A header block (plain text: no escaping needed, but no links either; at most 150
    characters)."""
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def actions(block_id: str, buttons: list[dict[str, object]]) -> dict[str, object]:
    """A block of buttons; its id names what they act on (`task:t1`, `review:sit|2`)."""
    return {"type": "actions", "block_id": block_id, "elements": buttons}
