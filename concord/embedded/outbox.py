"""What the embedded captures received: emails and Slack calls, thread-safe.

`concord up` shows it at `/outbox`; tests wait on it with `wait_for`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class CapturedEmail:
    """An email the local SMTP server took."""

    mail_from: str
    rcpt_to: list[str]
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    raw: bytes


@dataclass(frozen=True)
class CapturedSlack:
    """A call the local Slack Web API took."""

    method: str
    payload: dict[str, Any]
    token: str | None = field(repr=False)
    at: float = field(default_factory=time.time, compare=False)  # when it arrived (epoch s)


@dataclass(frozen=True)
class CapturedPost:
    """A request the local stand-in took for Teams, Matrix, Mattermost, Rocket.Chat or a
    webhook subscriber (`target`: the webhook's name, or the Matrix room)."""

    channel: str
    target: str
    payload: Any
    headers: dict[str, str] = field(repr=False)
    problems: list[str]
    key: str = ""  # the Matrix transaction id, or the webhook-id
    duplicate: bool = False  # a webhook-id seen before (a receiver drops it)
    at: float = field(default_factory=time.time, compare=False)


def headline(post: CapturedPost) -> str:
    """What a captured post is about, in a line: the card's title, the room message's
    first line, or the event's type and subject."""
    p = post.payload
    if isinstance(p, str) and "<alert" in p:  # a CAP alert: its type, status, identifier
        found = dict(re.findall(r"<(msgType|status|identifier|headline)>([^<]*)<", p))
        parts = ("CAP", found.get("msgType"), f"({found.get('status')})", found.get("headline"))
        return " ".join(x for x in parts if x)
    if not isinstance(p, dict):
        return str(p)[:120]
    if post.channel == "teams":
        for att in p.get("attachments") or []:
            for block in (att.get("content") or {}).get("body") or []:
                if block.get("weight") == "Bolder" and block.get("size"):
                    return str(block.get("text", ""))
    if post.channel in ("mattermost", "rocketchat"):
        return str(((p.get("attachments") or [{}])[0]).get("title", p.get("text", "")))
    if post.channel == "matrix":
        return str(p.get("body", "")).split("\n")[0]
    return f"{p.get('type', '')} {p.get('subject', '')}".strip()


class Outbox:
    """Captured messages; `wait_for` blocks until a condition over them holds."""

    def __init__(self, limit: int = 1000) -> None:
        self._cond = threading.Condition()
        self._emails: list[CapturedEmail] = []
        self._slack: list[CapturedSlack] = []
        self._posts: list[CapturedPost] = []
        self._limit = limit

    def add_email(self, mail: CapturedEmail) -> None:
        """Keep an email and wake whoever waits."""
        with self._cond:
            self._emails = [*self._emails, mail][-self._limit :]
            self._cond.notify_all()

    def add_slack(self, call: CapturedSlack) -> None:
        """Keep a Slack call and wake whoever waits."""
        with self._cond:
            self._slack = [*self._slack, call][-self._limit :]
            self._cond.notify_all()

    def add_post(self, post: CapturedPost) -> None:
        """Keep a stand-in's request and wake whoever waits."""
        with self._cond:
            self._posts = [*self._posts, post][-self._limit :]
            self._cond.notify_all()

    def posts(self, channel: str | None = None) -> list[CapturedPost]:
        """Every request the stand-in took (for `channel`), oldest first."""
        with self._cond:
            return [p for p in self._posts if channel is None or p.channel == channel]

    def emails(self) -> list[CapturedEmail]:
        """Every email so far, oldest first."""
        with self._cond:
            return list(self._emails)

    def slack(self, method: str | None = "chat.postMessage") -> list[CapturedSlack]:
        """Every Slack call of `method` so far (every call with None), oldest first."""
        with self._cond:
            return [c for c in self._slack if method is None or c.method == method]

    def wait_for(
        self, probe: Callable[[Outbox], T | Literal[False] | None], timeout: float = 30.0
    ) -> T:
        """Return `probe(self)` once it is truthy (`cond and value` reads as `value`);
        raise TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = probe(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"outbox condition not met within {timeout}s")
                # Condition's default lock is an RLock: probe may take it again.
                self._cond.wait(remaining)
