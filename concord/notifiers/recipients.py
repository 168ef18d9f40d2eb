"""Who a person id is, as a notifier sees them: a liaison, a coordinator or a panel member."""

from __future__ import annotations

from typing import Any

from concord.config.channels import ChatAddresses, Subscription
from concord.config.directory import Directory
from concord.notifiers.base import Recipient


def chat(own: ChatAddresses, shared: ChatAddresses | None = None) -> dict[str, Any]:
    """A recipient's chat addresses: its own, else the `shared` ones (its agency's)."""
    fields = ("teams_webhook", "matrix_room", "mattermost_webhook", "rocketchat_webhook")
    return {f: getattr(own, f) or (getattr(shared, f) if shared else None) for f in fields}


def recipient_for(directory: Directory, person: str) -> tuple[Recipient, list[str]] | None:
    """The recipient with this id and the channels to try, in order; None when unknown."""
    found = directory.liaison(person)
    if found is not None:
        agency, liaison = found
        return (
            Recipient(
                id=liaison.id,
                name=liaison.name,
                language=liaison.language,
                email=str(liaison.email) if liaison.email else None,
                slack_channel=liaison.slack_channel,
                slack_user=liaison.slack_user,
                **chat(liaison, agency),  # its own chat addresses, else its agency's
            ),
            list(agency.channels),
        )
    other = directory.coordinator(person) or directory.panel_member(person)
    if other is None:
        return None
    recipient = Recipient(
        id=other.id,
        name=other.name,
        language=other.language,
        email=str(other.email) if other.email else None,
        slack_user=other.slack_user,
        **chat(other),
    )
    return recipient, ["email", "slack", *other.chat_channels()]


def panel_channel(directory: Directory) -> tuple[Recipient, list[str]] | None:
    """The panel's shared channel and the channels to try, or None when it has none."""
    panel = directory.panel
    if not (panel.slack_channel or panel.chat_channels()):
        return None
    recipient = Recipient(
        id="panel",
        name="Panel",
        language=panel.language,
        slack_channel=panel.slack_channel,
        **chat(panel),
    )
    return recipient, list(panel.channels)


def subscriber(hook: Subscription) -> Recipient:
    """A webhook subscriber as a recipient: its endpoint and where its secret is kept."""
    return Recipient(id=hook.id, name=hook.id, webhook_url=hook.url, webhook_secret=hook.secret)
