"""A local server that answers like Teams Workflows, Matrix, Mattermost, Rocket.Chat and a
webhook receiver, checks what it is sent (`concord.embedded.wire`), and records it.

`concord up` points every chat webhook and subscriber whose address is not set at it
(`CONCORD_CHANNEL_STANDIN_URL`), and Matrix too when no homeserver is set, so `/outbox`
shows what each channel would have shown. Tests use it to see the exact wire format and
to make the next answers fail the way each service does (429 with Retry-After, 5xx, 404).

Routes: `POST /teams/<name>`, `POST /mattermost/<name>`, `POST /rocketchat/<name>`,
`POST /webhook/<name>`, and Matrix's `PUT /_matrix/client/v3/rooms/<room>/send/
m.room.message/<txn>` (one event per transaction, as a homeserver does) and
`GET /_matrix/client/v3/directory/room/<alias>`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from concord.embedded import wire
from concord.embedded.net import LocalServer, reply
from concord.embedded.outbox import CapturedPost, Outbox

#: The stand-in's Matrix access token, and the secret its webhook receiver verifies
#: (what the webhook notifier signs with under `concord up` when a secret is not set).
MATRIX_TOKEN = "concord-local-matrix"
WEBHOOK_SECRET = "whsec_Y29uY29yZC1sb2NhbC1zdGFuZC1pbi1zZWNyZXQ="
MATRIX_SEND = "/_matrix/client/v3/rooms/"
MATRIX_ALIAS = "/_matrix/client/v3/directory/room/"


@dataclass
class _Failure:
    channel: str
    status: int
    retry_after: int | None
    body: dict[str, Any]


class StandIn:
    """Serves the routes above on 127.0.0.1; `url` is the base."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.secrets: dict[str, str] = {}  # webhook name -> its secret (default: ours)
        self._failures: list[_Failure] = []
        self._events: dict[tuple[str, str], str] = {}  # (room, txn) -> event id
        self._keys: set[tuple[str, str]] = set()  # (subscriber, webhook-id) seen
        self._lock = threading.Lock()
        self._server = LocalServer(self._handle)
        self.port = self._server.port

    @property
    def url(self) -> str:
        """The base URL (`http://127.0.0.1:port`)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def fail_next(
        self, channel: str, count: int, status: int, retry_after: int | None = None
    ) -> None:
        """Make the next `count` requests to `channel` answer `status` (and Retry-After)."""
        body = {"errcode": "M_LIMIT_EXCEEDED" if status == 429 else "M_FORBIDDEN"}
        if status == 404:
            body = {"errcode": "M_NOT_FOUND"}
        elif status >= 500:
            body = {"errcode": "M_UNKNOWN"}
        with self._lock:
            self._failures += [_Failure(channel, status, retry_after, body) for _ in range(count)]

    def _take_failure(self, channel: str) -> _Failure | None:
        with self._lock:
            for i, failure in enumerate(self._failures):
                if failure.channel == channel:
                    return self._failures.pop(i)
        return None

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.partition("?")[0]
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in req.headers.items()}
        if path.startswith("/_matrix/"):
            self._matrix(req, path, body, headers)
            return
        channel, _, name = path.strip("/").partition("/")
        if channel not in ("teams", "mattermost", "rocketchat", "webhook") or not name:
            reply(req, 404, {"error": f"no such route: {path}"})
            return
        failure = self._take_failure(channel)
        if failure is not None:
            self._fail(req, failure)
            return
        name = unquote(name)
        if channel == "webhook":
            problems = wire.webhook(headers, body, self.secrets.get(name, WEBHOOK_SECRET))
            payload: Any = body.decode(errors="replace")
            if headers.get("Content-Type", "").startswith("application/cloudevents+json"):
                payload = wire.loads(body)
        else:
            payload = wire.loads(body)
            problems = wire.teams(payload) if channel == "teams" else wire.chat(payload)
        key = headers.get("webhook-id", "")
        with self._lock:  # a receiver deduplicates on webhook-id: so does the stand-in
            duplicate = bool(key) and (name, key) in self._keys
            self._keys.add((name, key))
        self.outbox.add_post(
            CapturedPost(channel, name, payload, headers, problems, key=key, duplicate=duplicate)
        )
        if problems:
            reply(req, 400, {"error": "; ".join(problems)})
        elif channel == "teams":
            reply(req, 202, {})  # Workflows: accepted, posted by the flow
        elif channel == "rocketchat":
            reply(req, 200, {"success": True})
        else:
            reply(req, 200, {"ok": True})

    def _matrix(
        self, req: BaseHTTPRequestHandler, path: str, body: bytes, headers: dict[str, str]
    ) -> None:
        if headers.get("Authorization") != f"Bearer {MATRIX_TOKEN}":
            reply(req, 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown token"})
            return
        if path.startswith(MATRIX_ALIAS) and req.command == "GET":
            alias = unquote(path[len(MATRIX_ALIAS) :])
            room = "!" + alias.lstrip("#").replace(":", "-") + ":concord.local"
            reply(req, 200, {"room_id": room, "servers": ["concord.local"]})
            return
        parts = path[len(MATRIX_SEND) :].split("/")
        if req.command != "PUT" or len(parts) != 4 or parts[1:3] != ["send", "m.room.message"]:
            reply(req, 404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
            return
        failure = self._take_failure("matrix")
        if failure is not None:
            self._fail(req, failure)
            return
        room, txn = unquote(parts[0]), unquote(parts[3])
        content = wire.loads(body)
        problems = wire.matrix(content)
        with self._lock:
            event = self._events.get((room, txn))
            duplicate = event is not None
            if event is None and not problems:
                event = self._events[(room, txn)] = f"$event{len(self._events) + 1}"
        if not duplicate:  # a homeserver answers a repeated transaction, posts nothing
            post = CapturedPost("matrix", room, content, headers, problems, key=txn)
            self.outbox.add_post(post)
        if problems:
            reply(req, 400, {"errcode": "M_BAD_JSON", "error": "; ".join(problems)})
        else:
            reply(req, 200, {"event_id": event})

    def _fail(self, req: BaseHTTPRequestHandler, failure: _Failure) -> None:
        extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        reply(req, failure.status, failure.body, extra)
