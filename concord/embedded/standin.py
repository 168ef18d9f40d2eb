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

import json
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from concord.embedded import wire
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
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: without TCP_NODELAY the body waits
            # for the client's delayed ACK (40 ms a request on Linux).
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server._handle(self)

            def do_PUT(self) -> None:
                server._handle(self)

            def do_GET(self) -> None:
                server._handle(self)

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL (`http://127.0.0.1:port`)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        """Start serving; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()

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
            self._reply(req, 404, {"error": f"no such route: {path}"})
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
        duplicate = bool(key) and any(
            p.key == key for p in self.outbox.posts(channel) if p.target == name
        )
        self.outbox.add_post(
            CapturedPost(channel, name, payload, headers, problems, key=key, duplicate=duplicate)
        )
        if problems:
            self._reply(req, 400, {"error": "; ".join(problems)})
        elif channel == "teams":
            self._reply(req, 202, {})  # Workflows: accepted, posted by the flow
        elif channel == "rocketchat":
            self._reply(req, 200, {"success": True})
        else:
            self._reply(req, 200, {"ok": True})

    def _matrix(
        self, req: BaseHTTPRequestHandler, path: str, body: bytes, headers: dict[str, str]
    ) -> None:
        if headers.get("Authorization") != f"Bearer {MATRIX_TOKEN}":
            self._reply(req, 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown token"})
            return
        if path.startswith(MATRIX_ALIAS) and req.command == "GET":
            alias = unquote(path[len(MATRIX_ALIAS) :])
            room = "!" + alias.lstrip("#").replace(":", "-") + ":concord.local"
            self._reply(req, 200, {"room_id": room, "servers": ["concord.local"]})
            return
        parts = path[len(MATRIX_SEND) :].split("/")
        if req.command != "PUT" or len(parts) != 4 or parts[1:3] != ["send", "m.room.message"]:
            self._reply(req, 404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
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
            self._reply(req, 400, {"errcode": "M_BAD_JSON", "error": "; ".join(problems)})
        else:
            self._reply(req, 200, {"event_id": event})

    def _fail(self, req: BaseHTTPRequestHandler, failure: _Failure) -> None:
        extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        self._reply(req, failure.status, failure.body, extra)

    @staticmethod
    def _reply(
        req: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)
