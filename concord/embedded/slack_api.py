"""A local HTTP server that answers like Slack's Web API and records every call.

`concord up` points the Slack notifier at it when no Slack token is configured (the
"Slack outbox"); tests use it to see exactly what slack_sdk sent. It can be told to fail
the next calls the way Slack does (HTTP 429 with Retry-After, or `ok: false` errors).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from concord.embedded.net import LocalServer, reply
from concord.embedded.outbox import CapturedSlack, Outbox


@dataclass
class _Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    channel: str | None = None


class SlackApiServer:
    """Serves `POST /api/<method>` on 127.0.0.1; `url` is the base for slack_sdk."""

    def __init__(self, outbox: Outbox, token: str = "xoxb-concord-local") -> None:
        self.outbox = outbox
        self.token = token
        self._failures: list[_Failure] = []
        self._slow: list[tuple[float, str | None, str | None]] = []
        self._posted: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ts = 0
        self._server = LocalServer(self._handle)
        self.port = self._server.port

    @property
    def url(self) -> str:
        """The API's base URL (`http://127.0.0.1:port/api/`)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> SlackApiServer:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def fail_next(
        self,
        count: int,
        error: str,
        status: int = 200,
        retry_after: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Make the next `count` calls (to `channel`, if given) fail like Slack would."""
        with self._lock:
            self._failures.extend(
                _Failure(error, status, retry_after, channel) for _ in range(count)
            )

    def slow_next(
        self, count: int, seconds: float, channel: str | None = None, containing: str | None = None
    ) -> None:
        """Make the next `count` calls (to `channel`, and whose body holds `containing`, if
        given) take `seconds` to answer, after they are recorded: a client that dies
        meanwhile sent a message it never heard back about (a delivery in doubt)."""
        with self._lock:
            self._slow.extend((seconds, channel, containing) for _ in range(count))

    def _take_slow(self, channel: object, body: bytes) -> float:
        for i, (seconds, wanted, part) in enumerate(self._slow):
            if (wanted is None or wanted == channel) and (part is None or part.encode() in body):
                del self._slow[i]
                return seconds
        return 0.0

    def _take_failure(self, channel: object) -> _Failure | None:
        for i, failure in enumerate(self._failures):
            if failure.channel is None or failure.channel == channel:
                return self._failures.pop(i)
        return None

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path, _, query = req.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length)
        ctype = req.headers.get("Content-Type", "")
        if "json" in ctype and body:
            payload = json.loads(body)
        else:
            text = query if req.command == "GET" else body.decode()
            payload = {k: v[0] for k, v in parse_qs(text).items()}
            for key in ("blocks", "metadata", "attachments"):
                if isinstance(payload.get(key), str):
                    payload[key] = json.loads(payload[key])
        auth = req.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else payload.get("token")
        with self._lock:
            failure = self._take_failure(payload.get("channel"))
            self._ts += 1
            ts = f"{int(time.time())}.{self._ts:06d}"
        if token != self.token:
            reply(req, 200, {"ok": False, "error": "invalid_auth"})
            return
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            reply(req, failure.status, {"ok": False, "error": failure.error}, headers)
            return
        if method == "conversations.history":
            reply(req, 200, self._history(payload))
            return
        self.outbox.add_slack(CapturedSlack(method=method, payload=payload, token=token))
        if method == "chat.postMessage":
            with self._lock:
                self._posted.append({**payload, "ts": ts})
        with self._lock:
            slow = self._take_slow(payload.get("channel"), body)
        if slow:
            time.sleep(slow)  # this handler's own thread: other requests are not held up
        if method in ("chat.postMessage", "chat.update"):
            channel = payload.get("channel", "")
            reply(
                req,
                200,
                {
                    "ok": True,
                    "channel": channel,
                    "ts": payload.get("ts", ts),
                    "message": {"text": payload.get("text", ""), "ts": ts},
                },
            )
        elif method == "auth.test":
            reply(req, 200, {"ok": True, "team": "concord-local", "user": "concord"})
        else:
            reply(req, 200, {"ok": True})

    def _history(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Newest first; metadata only with include_all_metadata, as Slack does."""
        with_meta = str(payload.get("include_all_metadata", "")).lower() in ("true", "1")
        limit = int(payload.get("limit") or 100)
        with self._lock:
            found = [p for p in self._posted if p.get("channel") == payload.get("channel")]
        messages = []
        for p in reversed(found[-limit:]):
            item = {"type": "message", "ts": p["ts"], "text": p.get("text", "")}
            if with_meta and p.get("metadata"):
                item["metadata"] = p["metadata"]
            messages.append(item)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}
