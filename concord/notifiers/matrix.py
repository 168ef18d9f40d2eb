"""Matrix through the client-server API (mautrix): `m.room.message` into the liaison's
or the agency's room, as a bot account.

- The message key is the transaction id (`PUT /rooms/{room}/send/m.room.message/{txn}`):
  a resend after a crash is the same transaction, and the homeserver itself answers it
  with the event it already sent, so nothing is posted twice.
- A plain `body` and an escaped `org.matrix.custom.html` body. `"m.mentions": {}` says
  the message mentions no one (so `@room` or a user id in it notifies nobody on
  homeservers that honour intentional mentions), and `@` gets an invisible word joiner
  for clients that still match the body. No pill: the only links are Concord's own.

Why mautrix rather than matrix-nio: it depends only on aiohttp, attrs and yarl (nio
brings its encryption and sync machinery), takes our transaction id as is, and raises
typed errors (`MLimitExceeded`, `MForbidden`, ...) that map to retry or fall back.
"""

from __future__ import annotations

import html
from typing import Any

import aiohttp
from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.errors import (
    MatrixConnectionError,
    MatrixRequestError,
    MForbidden,
    MLimitExceeded,
    MNotFound,
    MUnknownToken,
)
from mautrix.types import EventType, RoomAlias, RoomID
from pydantic import SecretStr

from concord.common.text import chat_escape
from concord.notifiers.base import Message, NotAddressable, Recipient, SendError, Sent
from concord.streams.delivery import Card

_PERMANENT = (MForbidden, MNotFound, MUnknownToken)


def _html(text: str) -> str:
    return html.escape(chat_escape(text)).replace("\n", "<br>")


def content(message: Message) -> dict[str, Any]:
    """The `m.room.message` content of a message: plain and HTML bodies, no mentions."""
    card = message.card or Card(title=message.subject, text=message.text)
    plain = [card.banner, card.title, "", card.text.strip()] if card.banner else []
    plain = plain or [card.title, "", card.text.strip()]
    plain += [f"{f.label}{card.colon}{f.value}" for f in card.facts]
    plain += [f"{a.label}{card.colon}{a.url}" for a in card.actions]
    parts = [f"<p><strong>{_html(card.banner)}</strong></p>"] if card.banner else []
    parts.append(f"<h4>{_html(card.title)}</h4>")
    if card.text.strip():
        parts.append(f"<p>{_html(card.text.strip())}</p>")
    if card.facts:
        rows = "".join(
            f"<li>{_html(f.label)}{_html(card.colon)}{_html(f.value)}</li>" for f in card.facts
        )
        parts.append(f"<ul>{rows}</ul>")
    if card.actions:
        links = " · ".join(
            f'<a href="{html.escape(a.url, quote=True)}">{_html(a.label)}</a>' for a in card.actions
        )
        parts.append(f"<p>{links}</p>")
    return {
        "msgtype": "m.text",
        "body": chat_escape("\n".join(plain).strip()),
        "format": "org.matrix.custom.html",
        "formatted_body": "".join(parts),
        "m.mentions": {},
    }


class MatrixNotifier:
    """Sends to the recipient's room on the city's homeserver, as the bot's access token."""

    channel = "matrix"

    def __init__(self, homeserver: str, token: SecretStr, *, timeout: float = 15.0) -> None:
        self.homeserver = homeserver.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._rooms: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MatrixNotifier({self.homeserver}, token=<hidden>)"

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient (or its agency) has a Matrix room."""
        return bool(recipient.matrix_room)

    def _client(self) -> ClientAPI:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        api = HTTPAPI(
            self.homeserver,
            self._token.get_secret_value(),
            client_session=self._session,
            default_retry_count=0,  # one attempt: retries are the delivery stage's
        )
        return ClientAPI(api=api)

    async def _room(self, client: ClientAPI, room: str) -> RoomID:
        """A room id, resolving an alias once."""
        if room.startswith("!"):
            return RoomID(room)
        if room not in self._rooms:
            self._rooms[room] = str((await client.resolve_room_alias(RoomAlias(room))).room_id)
        return RoomID(self._rooms[room])

    async def send(self, message: Message) -> Sent:
        """Send the message with its key as the transaction id."""
        room = message.recipient.matrix_room
        if not room:
            raise NotAddressable(self.channel, message.recipient)
        client = self._client()
        try:
            room_id = await self._room(client, room)
            body: Any = content(message)  # plain JSON: mautrix sends a dict as it is
            event = await client.send_message_event(
                room_id, EventType.ROOM_MESSAGE, body, txn_id=message.key
            )
        except MLimitExceeded as exc:
            raise SendError("Matrix rate limit", retryable=True) from exc
        except _PERMANENT as exc:
            raise SendError(f"Matrix: {exc.errcode} {exc.message}", retryable=False) from exc
        except MatrixRequestError as exc:
            status = int(getattr(exc, "http_status", 0) or 0)
            raise SendError(f"Matrix: HTTP {status} {exc}", retryable=status >= 500) from exc
        except (MatrixConnectionError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"Matrix unreachable: {exc!r}", retryable=True) from exc
        return Sent(provider_id=f"{room_id}/{event}", address=room)

    async def lookup(self, message: Message) -> Sent | None:
        """Not asked: a resend is the same transaction, which the homeserver deduplicates."""
        return None

    async def update(self, message: Message) -> Sent:
        """Edits (`m.replace`) are not used: the task page has the current state."""
        raise SendError("a Matrix message is not edited by Concord", retryable=False)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
