"""Slack through slack_sdk's async Web API client (`chat.postMessage`, Block Kit).

One attempt per call: pacing (per Slack channel and workspace), retries and fallback are
the delivery stage's (`concord.delivery`). One HTTP session is kept for all calls.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from concord.notifiers.base import Message, NotAddressable, Recipient, SendError, Sent

#: Slack errors that no retry can fix.
_PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "invalid_blocks",
    "msg_too_long",
    "user_not_found",
}


class SlackNotifier:
    """Posts a Block Kit message to the liaison's channel (or direct message)."""

    channel = "slack"

    def __init__(self, token: SecretStr, api_url: str, *, timeout: int = 15) -> None:
        self._token = token
        self.api_url = api_url
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"SlackNotifier({self.api_url}, token=<hidden>)"

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient has a Slack channel."""
        return bool(recipient.slack_channel or recipient.slack_user)

    def _client(self) -> AsyncWebClient:
        # One session for every call (made on first use, in the running loop): a new
        # connection per message costs more than the message.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        return AsyncWebClient(
            token=self._token.get_secret_value(),
            base_url=self.api_url,
            timeout=self._timeout,
            session=self._session,
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def lookup(self, message: Message) -> Sent | None:
        """Find our message in the channel's recent history by its metadata key."""
        where = message.recipient.slack_channel or message.recipient.slack_user
        if not where:
            return None
        try:
            resp = await self._call(
                "conversations_history", channel=where, limit=200, include_all_metadata=True
            )
        except SendError:
            return None  # cannot tell: the caller sends again
        for item in resp.get("messages") or []:
            payload = (item.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == message.key:
                return Sent(provider_id=f"{where}/{item.get('ts')}", address=where)
        return None

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """One Web API call, its errors as SendError (rate limits with their Retry-After)."""
        client = self._client()
        try:
            return await getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown"))
            if exc.response.status_code == 429 or error == "ratelimited":
                after = float(exc.response.headers.get("Retry-After", "1"))
                raise SendError("Slack rate limit", retryable=True, retry_after=after) from exc
            raise SendError(f"Slack: {error}", retryable=error not in _PERMANENT) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"Slack unreachable: {exc!r}", retryable=True) from exc

    async def send(self, message: Message) -> Sent:
        """Post the message (chat.postMessage, with its key as metadata); raise `SendError` on
        failure."""
        where = message.recipient.slack_channel or message.recipient.slack_user
        if not where:
            raise NotAddressable(self.channel, message.recipient)
        resp = await self._call(
            "chat_postMessage",
            channel=where,
            text=message.slack_text,
            blocks=message.slack_blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": "concord_task", "event_payload": {"key": message.key}},
        )
        return Sent(provider_id=f"{resp.get('channel')}/{resp.get('ts')}", address=where)

    async def update(self, message: Message) -> Sent:
        """Replace a message we sent (`message.update_ref`, `channel/ts`), e.g. to show a
        task's new state."""
        channel, _, ts = (message.update_ref or "").partition("/")
        if not channel or not ts:
            raise SendError("no Slack message to update", retryable=False)
        await self._call(
            "chat_update",
            channel=channel,
            ts=ts,
            text=message.slack_text,
            blocks=message.slack_blocks,
        )
        return Sent(provider_id=f"{channel}/{ts}", address=channel)

    async def open_view(self, trigger_id: str, view: dict[str, object]) -> None:
        """Open a modal (views.open) in answer to an interaction."""
        await self._call("views_open", trigger_id=trigger_id, view=view)
