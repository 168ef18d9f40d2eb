"""What the HTTP channels share: one aiohttp session, answers read as `SendError`s, and
where a webhook URL kept out of the directory is found.

Teams Workflows, Mattermost, Rocket.Chat and webhook subscribers are all one POST. A
2xx is delivered; 429 and 5xx (and 408, timeouts, refused connections) are worth
another attempt, after `Retry-After` when the answer gives one; any other 4xx is not
(the URL is gone, the flow is off, the payload is refused), so the delivery stage falls
back to the next channel at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

import aiohttp

from concord.common.secrets import SecretRef
from concord.embedded.standin import WEBHOOK_SECRET as STANDIN_SECRET
from concord.notifiers.base import Message, SendError, Sent

#: HTTP answers worth another attempt besides 5xx.
RETRYABLE = frozenset({408, 425, 429})


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds a `Retry-After` header asks for (a number of seconds), or None."""
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the delivery stage's own backoff decides


class Addresses:
    """Finds the URL a `SecretRef` points at. `standin`: `concord up`'s local stand-in,
    used for what is not set (`{standin}/{channel}/{name}`), so the outbox shows it."""

    def __init__(self, standin: str | None = None, environ: Mapping[str, str] | None = None):
        self.standin = standin.rstrip("/") if standin else None
        self._environ = environ

    def url(self, channel: str, ref: SecretRef) -> str:
        """The URL, or a permanent `SendError` when it is not set."""
        found = ref.resolve(self._environ)
        if found:
            return found
        if self.standin:
            return f"{self.standin}/{channel}/{quote(ref.env or ref.file or '', safe='')}"
        raise SendError(f"{channel}: {ref} is not set", retryable=False)

    def subscriber(self, name: str, url: str, secret: SecretRef) -> tuple[str, str]:
        """Where a webhook subscriber's events go and the secret they are signed with;
        under `concord up`, a subscriber whose secret is not set is the stand-in (which
        knows its secret). A permanent `SendError` when the secret is not set otherwise."""
        found = secret.resolve(self._environ)
        if found:
            return url, found
        if self.standin:
            return f"{self.standin}/webhook/{quote(name, safe='')}", STANDIN_SECRET
        raise SendError(f"webhook {name}: {secret} is not set", retryable=False)


class PostOnly:
    """What a channel that only takes POSTs (Teams Workflows, Mattermost and Rocket.Chat
    webhooks, webhook subscribers) cannot do: be asked what it got, or edit it."""

    channel: str
    _poster: Poster

    async def lookup(self, message: Message) -> Sent | None:
        """A webhook cannot be asked what it got: unknown (a resend is flagged)."""
        return None

    async def update(self, message: Message) -> Sent:
        """What was posted cannot be changed; a later change is a later message."""
        raise SendError(f"a {self.channel} message cannot be updated", retryable=False)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._poster.close()


class Poster:
    """POSTs with one kept-alive session; one attempt per call."""

    def __init__(self, name: str, timeout: float = 15.0) -> None:
        self.name = name
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, in the running loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> str:
        """POST `body`; the answer's text on 2xx, else `SendError` (see the module)."""
        try:
            async with self._client().post(url, data=body, headers=dict(headers)) as resp:
                text = await resp.text(errors="replace")
                if 200 <= resp.status < 300:
                    return text
                retryable = resp.status >= 500 or resp.status in RETRYABLE
                raise SendError(
                    f"{self.name}: HTTP {resp.status} {text[:200]}".strip(),
                    retryable=retryable,
                    retry_after=retry_after(resp.headers) if retryable else None,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"{self.name} unreachable: {exc!r}", retryable=True) from exc

    async def post_json(self, url: str, payload: object) -> str:
        """POST `payload` as JSON."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        return await self.post(url, body, {"Content-Type": "application/json"})
