"""Messages as chat channels show them: a `Card` (title, text, facts, buttons).

Teams, Matrix, Mattermost and Rocket.Chat cannot call Concord back, so a card's buttons
are links: the same signed action pages as in emails (GET shows a confirmation, POST
acts). The words of the cards come from the pages' gettext catalogues (`say`).
"""

from __future__ import annotations

from collections.abc import Callable

from concord.streams.delivery import Action, Card, Fact

#: (message id, language) -> the message in that language (the catalogues)
Say = Callable[[str, str], str]


def N_(message: str) -> str:
    """Mark a word for the catalogues (`scripts/extract-messages`)."""
    return message


EXERCISE = N_("EXERCISE — this is a drill, not a real incident")
AREA = N_("Area")
WHEN = N_("When")
SEVERITY = N_("Severity")
DUE = N_("Due")
URGENT = N_("Urgent")
YES = N_("yes")
ASSIGNEE = N_("assignee: %(who)s")
ACK = N_("Acknowledge")
DECLINE = N_("Decline")
DONE = N_("Done")
OPEN_TASK = N_("Open the task")
OPEN_REFERRAL = N_("Open the referral")
OPEN_REVIEW = N_("Open the review")
OPEN_SITUATION = N_("Open the situation")
APPROVE = N_("Approve")
CONFLICT = N_("Conflict of interest")
REJECT = N_("Reject")
#: The words of each signed link, by action.
ACTIONS = {
    "ack": ACK,
    "decline": DECLINE,
    "done": DONE,
    "approve": APPROVE,
    "conflict": CONFLICT,
    "reject": REJECT,
}


def same(message: str, language: str) -> str:
    """`Say` without catalogues: the English source."""
    return message


def marked(card: Card, exercise: bool, language: str, say: Say = same) -> Card:
    """The card, with the drill's marking when it is one, and its language's colon."""
    colon = say(": ", language)
    if not exercise:
        return card.model_copy(update={"colon": colon})
    return card.model_copy(update={"banner": say(EXERCISE, language), "colon": colon})


def task_card(
    title: str,
    action: str,
    facts: list[tuple[str, str]],
    links: dict[str, str],
    open_url: str,
    language: str,
    say: Say = same,
) -> Card:
    """A task: its title and action, where and how grave, and its buttons (the signed
    actions, then the task page)."""
    return Card(
        title=title,
        text=action,
        facts=[Fact(label=say(label, language), value=value) for label, value in facts if value],
        actions=[
            *(Action(label=say(ACTIONS[a], language), url=url) for a, url in links.items()),
            Action(label=say(OPEN_TASK, language), url=open_url),
        ],
    )


def text_card(
    title: str, text: str, open_url: str, open_label: str, language: str, say: Say = same
) -> Card:
    """A notice: its subject, its text and a link to what it is about."""
    actions = [Action(label=say(open_label, language), url=open_url)] if open_url else []
    return Card(title=title, text=text, actions=actions)


def review_card(
    title: str,
    text: str,
    links: dict[str, str] | None,
    review_url: str,
    language: str,
    say: Say = same,
) -> Card:
    """A panel notice: the analysis, the member's own signed votes while the panel votes,
    and the review page."""
    votes = [Action(label=say(ACTIONS[d], language), url=u) for d, u in (links or {}).items()]
    return Card(
        title=title,
        text=text,
        actions=[*votes, Action(label=say(OPEN_REVIEW, language), url=review_url)],
    )
