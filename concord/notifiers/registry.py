"""The one explicit registry of notifiers, built from settings."""

from __future__ import annotations

from collections.abc import Iterator

from concord.config.settings import Settings
from concord.notifiers.base import Notifier, Views
from concord.notifiers.chat import WebhookChatNotifier
from concord.notifiers.email import EmailNotifier
from concord.notifiers.http import Addresses
from concord.notifiers.matrix import MatrixNotifier
from concord.notifiers.slack import SlackNotifier
from concord.notifiers.teams import TeamsNotifier
from concord.notifiers.webhook import WebhookNotifier


class Registry:
    """Channel name -> notifier."""

    def __init__(self, notifiers: list[Notifier] | None = None) -> None:
        self._by_channel: dict[str, Notifier] = {}
        #: Slack's modals, when Slack is configured (see `Views`)
        self.views: Views | None = None
        for n in notifiers or []:
            self.register(n)

    def register(self, notifier: Notifier) -> None:
        """Register a notifier; a second one for the same channel is a mistake."""
        if notifier.channel in self._by_channel:
            raise ValueError(f"channel {notifier.channel!r} registered twice")
        self._by_channel[notifier.channel] = notifier

    def get(self, channel: str) -> Notifier | None:
        """The notifier of `channel`, or None when it is not configured."""
        return self._by_channel.get(channel)

    def __iter__(self) -> Iterator[Notifier]:
        return iter(self._by_channel.values())

    def __repr__(self) -> str:
        return f"Registry({sorted(self._by_channel)})"


def build_registry(settings: Settings) -> Registry:
    """Email when an SMTP host is set, Slack when a token is set, Matrix when a homeserver
    and a token are set; Teams, Mattermost, Rocket.Chat and webhooks always (their
    addresses are per recipient, in the directory)."""
    registry = Registry()
    addresses = Addresses(settings.channel_standin_url)
    registry.register(TeamsNotifier(addresses))
    registry.register(WebhookChatNotifier("mattermost", addresses))
    registry.register(WebhookChatNotifier("rocketchat", addresses))
    registry.register(WebhookNotifier(addresses))
    if settings.matrix_homeserver and settings.matrix_token:
        registry.register(MatrixNotifier(settings.matrix_homeserver, settings.matrix_token))
    if settings.smtp_host:
        registry.register(
            EmailNotifier(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                user=settings.smtp_user,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
            )
        )
    if settings.slack_token:
        slack = SlackNotifier(settings.slack_token, settings.slack_api_url)
        registry.register(slack)
        registry.views = slack
    return registry
