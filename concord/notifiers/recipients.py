"""Who a person id is, as a notifier sees them: a liaison, a coordinator or a panel member."""

from __future__ import annotations

from concord.config.directory import Directory
from concord.notifiers.base import Recipient


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
    )
    return recipient, ["email", "slack"]
