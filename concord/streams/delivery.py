"""What leaves Concord: the models of `concord.outgoing` and of the delivery stage's state.

Every message for a person — a task, a notice about a task, a panel notice, a sign-in
link, the update of a Slack message — is rendered by the stage that decides it and put
on `concord.outgoing` as a `DeliveryRequest`, keyed by the message's key. The delivery
stage (`concord.agents.deliver`) alone talks to carriers: it keeps one `DeliveryRecord`
per key (so each message is delivered once, also across crashes), retries on a durable
schedule until the message's deadline, falls back to the next channel, and publishes
every record on `concord.delivery-state` (without the content) for the board.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AliasChoices, AwareDatetime, Field

from concord.common.secrets import SecretRef
from concord.common.types import Strict, utcnow

Kind = Literal["task", "notice", "review", "sign_in", "update", "event", "referral"]
#: The channels a person is reached on, one notifier each (`concord.notifiers.registry`).
PersonChannel = Literal["slack", "email", "teams", "matrix", "mattermost", "rocketchat"]
PERSON_CHANNELS: tuple[PersonChannel, ...] = get_args(PersonChannel)
#: Every channel: a person's, or a webhook (which reaches a system, not a person).
Channel = Literal[PersonChannel, "webhook"]
CHANNELS: tuple[Channel, ...] = (*PERSON_CHANNELS, "webhook")


def task_message_key(task_id: str, person: str) -> str:
    """The key of the message that gives task `task_id` to `person`: the delivery
    stage's once-per-key, the board's delivery state and a withdrawal all use it."""
    return f"{task_id}.{person}"


class Recipient(Strict):
    """Where a message goes: a liaison, panel member or coordinator as the directory knows
    them, or the panel's Slack channel."""

    id: str
    name: str
    language: str = "en"
    email: str | None = None
    slack_channel: str | None = None
    slack_user: str | None = None
    teams_webhook: SecretRef | None = Field(None, description="where its Workflows URL is kept")
    matrix_room: str | None = Field(None, description="room id (!x:server) or alias (#x:server)")
    mattermost_webhook: SecretRef | None = None
    rocketchat_webhook: SecretRef | None = None
    webhook_url: str | None = Field(None, description="a subscriber's endpoint (webhooks)")
    webhook_secret: SecretRef | None = Field(None, description="a subscriber's signing secret")


class Action(Strict):
    """A button of a chat message: a signed link (GET shows a confirmation, POST acts)."""

    label: str
    url: str


class Fact(Strict):
    """One line of a chat card: a label and its value (`Area: Centre-ville`)."""

    label: str
    value: str


class Card(Strict):
    """A message as chat channels show it (Teams, Matrix, Mattermost, Rocket.Chat): a
    title, a short text, facts and buttons, in the recipient's language. Chat channels
    that cannot call Concord back act through links (`actions`)."""

    title: str
    banner: str = Field("", description="the drill's marking, when it is one")
    colon: str = Field(": ", description="between a label and its value, in its language")
    text: str = ""
    facts: list[Fact] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)


class Event(Strict):
    """What a webhook subscriber gets: a CloudEvent's attributes and its data (never a
    person, never a report's free text), or a CAP 1.2 alert (`cap`, the XML)."""

    id: str = Field(description="the event's id; also the Standard Webhooks `webhook-id`")
    type: str = Field(description="e.g. org.concord.task.acknowledged")
    subject: str = Field(description="the situation or task it is about")
    time: AwareDatetime
    data: dict[str, object] = Field(default_factory=dict)
    cap: str | None = Field(None, description="a CAP 1.2 alert instead of a CloudEvent")


class Message(Strict):
    """A notification rendered for one recipient: its subject and text, and the forms of
    the channels it may go through (HTML for email, Slack's text and blocks, a card for
    the chat channels; what a channel does not send is left empty)."""

    key: str = Field(description="idempotency key: same key, same message, delivered once")
    recipient: Recipient
    subject: str
    text: str
    html: str = ""
    slack_text: str = ""
    slack_blocks: list[dict[str, object]] = Field(default_factory=list)
    exercise: bool = False
    resend: bool = Field(False, description="sent again after a crash left it in doubt")
    update_ref: str | None = Field(None, description="update: the Slack message (channel/ts)")
    card: Card | None = Field(None, description="chat channels: title, facts, buttons")
    event: Event | None = Field(None, description="webhooks: the event to post")
    reply_to: str | None = Field(None, description="email: where a reply acts on the task")


class Outgoing(Strict):
    """A message to deliver, and what the delivery stage needs to know about it."""

    kind: Kind
    subject: str = Field(description="what it is about (task id, review:sit-..., login:...)")
    order: str = Field(
        description="messages with the same order key to the same address leave in order"
    )
    message: Message
    channels: list[str] = Field(description="the channels to try, in order")
    deadline: AwareDatetime = Field(description="retry until then, then fall back")
    created_at: AwareDatetime
    report_task: str | None = Field(
        None, description="the task whose track stage hears the outcome (task messages)"
    )
    tell_on_failure: bool = Field(
        True, description="tell the coordinators when it falls back or cannot be delivered"
    )
    label: str = Field("", description="what to call it in logs and narration (a task title)")
    agency: str | None = Field(None, description="the agency of the recipient (task messages)")

    @property
    def key(self) -> str:
        """The message's key: once per key is the delivery stage's promise."""
        return self.message.key


class DeliveryRequest(Strict):
    """A record of `concord.outgoing`, keyed by the message key it is about: deliver this
    message, or withdraw it (moot now: the task went to someone else, or ended)."""

    key: str
    action: Literal["send", "withdraw"] = "send"
    outgoing: Outgoing | None = None
    reason: str = ""


State = Literal["pending", "retrying", "delivered", "failed", "withdrawn"]
FINAL: frozenset[str] = frozenset({"delivered", "failed", "withdrawn"})


class Receipt(Strict):
    """The outcome of one delivery attempt (kept in its message's `DeliveryRecord`)."""

    task_id: str
    channel: str
    recipient: str
    attempt: int
    ok: bool
    retryable: bool = False
    error: str | None = None
    provider_id: str | None = None
    exercise: bool = False
    at: AwareDatetime = Field(default_factory=utcnow)


#: How many receipts a delivery record keeps, the latest (`total_attempts` counts all).
RECEIPTS_KEPT = 10


class DeliveryRecord(Strict):
    """One message's delivery (the `deliveries` table, and `concord.delivery-state`
    without `outgoing`)."""

    key: str
    kind: Kind
    subject: str
    recipient: str
    channels: list[str]
    channel: int = Field(0, description="index of the channel being tried")
    state: State = "pending"
    attempts: int = Field(0, description="attempts on the current channel")
    total_attempts: int = 0
    next_at: AwareDatetime | None = Field(None, description="when the next attempt is due")
    deadline: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    # "via" before 2026-12 (now the word for how a person acted): old records still read.
    delivered_by: str | None = Field(
        None,
        validation_alias=AliasChoices("delivered_by", "via"),
        description="the channel that delivered it",
    )
    provider_id: str | None = None
    last_error: str | None = None
    given_up: list[str] = Field(default_factory=list, description="channels fallen back from")
    in_doubt: bool = Field(False, description="a crash may have sent it already")
    receipts: list[Receipt] = Field(
        default_factory=list, description=f"the latest {RECEIPTS_KEPT} attempts' outcomes"
    )
    outgoing: Outgoing | None = Field(None, description="the message (not published)")

    @property
    def final(self) -> bool:
        """Whether the message reached its end (delivered, failed, withdrawn): nothing more to
        send."""
        return self.state in FINAL

    @property
    def current(self) -> str | None:
        """The channel being tried (None once all are exhausted)."""
        return self.channels[self.channel] if self.channel < len(self.channels) else None

    def delayed(self, now: datetime, after_seconds: float = 60.0) -> bool:
        """Still not delivered a while after it was posted (the board says so)."""
        return not self.final and (now - self.created_at).total_seconds() > after_seconds
