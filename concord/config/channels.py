"""The directory's words for the chat channels, webhook subscribers and CAP alerts.

A liaison (or, for all its liaisons, an agency) is reached on Teams, Matrix, Mattermost
or Rocket.Chat through the addresses below. Webhook URLs that are themselves credentials
(Teams Workflows, Mattermost, Rocket.Chat) are never written in the directory: only where
they are kept (`SecretRef`). Other systems follow Concord through `webhooks`
subscriptions: signed CloudEvents (or CAP 1.2 alerts), never a person.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import Field, field_validator

from concord.common.secrets import SecretRef
from concord.common.types import Code, Strict
from concord.streams.delivery import PERSON_CHANNELS, PersonChannel

__all__ = [
    "EVENT_TYPES",
    "PERSON_CHANNELS",
    "ChatAddresses",
    "Circle",
    "EventType",
    "PersonChannel",
    "Subscription",
    "both_channels",
    "slack_only",
]

#: A Matrix room id or alias: `!opaque:server` or `#name:server`.
ROOM = r"^[!#][^:\s]+:[A-Za-z0-9.\-\[\]:]+$"

EventType = Literal[
    "situation.opened",
    "situation.changed",
    "situation.closed",
    "task.created",
    "task.acknowledged",
    "task.declined",
    "task.done",
    "task.escalated",
    "task.failed",
    "review.decided",
    "report.received",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


def both_channels() -> list[PersonChannel]:
    """Slack, then email: an agency's channels unless it says."""
    return ["slack", "email"]


def slack_only() -> list[PersonChannel]:
    """Slack alone: the panel's shared channel unless it says."""
    return ["slack"]


class ChatAddresses(Strict):
    """Where someone is reached besides email and Slack."""

    teams_webhook: SecretRef | None = Field(
        None,
        description="where the URL of a Teams Workflows 'post to a channel when a webhook "
        "request is received' flow is kept: {env: NAME} or {file: PATH}",
    )
    matrix_room: str | None = Field(
        None,
        pattern=ROOM,
        description="a Matrix room id (!abc:example.org) or alias (#police:example.org)",
    )
    mattermost_webhook: SecretRef | None = Field(
        None, description="where a Mattermost incoming webhook URL is kept"
    )
    rocketchat_webhook: SecretRef | None = Field(
        None, description="where a Rocket.Chat incoming webhook URL is kept"
    )

    @field_validator("teams_webhook", "mattermost_webhook", "rocketchat_webhook", mode="before")
    @classmethod
    def _kept_elsewhere(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(
                "a webhook URL is a credential: never write it here, say where it is kept "
                "({env: NAME} or {file: PATH})"
            )
        return value

    @field_validator("matrix_room", mode="before")
    @classmethod
    def _room(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(ROOM, value):
            raise ValueError("a room id (!abc:example.org) or alias (#name:example.org)")
        return value

    def chat_channels(self) -> list[PersonChannel]:
        """The chat channels these addresses reach."""
        found: list[PersonChannel] = []
        if self.teams_webhook:
            found.append("teams")
        if self.matrix_room:
            found.append("matrix")
        if self.mattermost_webhook:
            found.append("mattermost")
        if self.rocketchat_webhook:
            found.append("rocketchat")
        return found


class Subscription(Strict):
    """Another system that follows Concord: what it gets, where, signed with what."""

    id: Code = Field(description="names the subscriber (its lane, its deliveries)")
    url: str = Field(description="where events are POSTed (https in production)")
    secret: SecretRef = Field(description="where its Standard Webhooks secret (whsec_...) is kept")
    events: list[EventType] = Field(
        default_factory=lambda: list(EVENT_TYPES), min_length=1, description="what it gets"
    )
    agency: Code | None = Field(
        None,
        description="only this agency's tasks and the situations they are part of "
        "(default: every agency)",
    )
    format: Literal["cloudevents", "cap"] = Field(
        "cloudevents",
        description="CloudEvents 1.0 (structured JSON), or a CAP 1.2 alert per situation "
        "event (situation events only)",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return url


class Circle(Strict):
    """Roughly where an area is: a centre (WGS 84) and a radius (for CAP alerts)."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=100)

    def __str__(self) -> str:
        return f"{self.lat},{self.lon} {self.radius_km}"
