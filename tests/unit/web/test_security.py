"""concord.web.security and the sign-in's `next`: the checks pages share."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from concord.web.security import HEADERS, loopback, same_origin, secure_cookies
from concord.web.session import landing, safe_next


@pytest.mark.parametrize(
    "value",
    [
        "/\\evil.example",
        "/\t/evil.example",
        "//evil.example",
        "https://evil.example",
        "evil.example",
        "/ok\nSet-Cookie: x",
        "/\x00",
        "/" + "a" * 2001,
        "",
        None,
    ],
)
def test_next_refuses_anything_that_leaves_the_site(value: str | None) -> None:
    assert safe_next(value) is None


@pytest.mark.parametrize("value", ["/review", "/tasks/task-1?done=acknowledged", "/review/sit-1#v"])
def test_next_keeps_local_paths(value: str) -> None:
    assert safe_next(value) == value


def test_landing_falls_back_to_the_roles_page() -> None:
    assert landing("panel", "/\\evil.example") == "/review"
    assert landing("panel", "/review/sit-1") == "/review/sit-1"


def request(headers: dict[str, str] | None = None, **kw: Any) -> web.Request:
    return make_mocked_request("POST", "/login", headers=headers or {}, **kw)


def test_same_origin_trusts_the_browser_fetch_metadata_first() -> None:
    host = {"Host": "127.0.0.1:6066"}
    assert same_origin(request({**host, "Sec-Fetch-Site": "same-origin"}))
    assert not same_origin(request({**host, "Sec-Fetch-Site": "cross-site"}))
    assert not same_origin(request({**host, "Sec-Fetch-Site": "same-site"}))
    assert same_origin(request({**host, "Origin": "http://127.0.0.1:6066"}))
    assert not same_origin(request({**host, "Origin": "https://evil.example"}))
    assert same_origin(request(host))  # curl, scripts: no browser to drive


def test_cookies_are_secure_behind_https() -> None:
    assert secure_cookies(request(), "https://concord.city.example")
    assert secure_cookies(request({"X-Forwarded-Proto": "https"}), None)
    assert not secure_cookies(request(), "http://127.0.0.1:6066")
    assert not secure_cookies(request(), None)


def test_loopback_needs_a_local_peer_and_a_local_host_name() -> None:
    class Transport:
        def __init__(self, peer: str) -> None:
            self.peer = peer

        def get_extra_info(self, name: str, default: object = None) -> object:
            return (self.peer, 50000) if name == "peername" else default

        def is_closing(self) -> bool:
            return False

    def at(peer: str, host: str):  # type: ignore[no-untyped-def]
        return make_mocked_request(
            "GET", "/outbox", headers={"Host": host}, transport=Transport(peer)
        )

    assert loopback(at("127.0.0.1", "127.0.0.1:6066"))
    assert loopback(at("::1", "localhost:6066"))
    assert not loopback(at("127.0.0.1", "rebound.evil.example:6066"))  # DNS rebinding
    assert not loopback(at("192.0.2.7", "127.0.0.1:6066"))


def test_every_response_gets_the_security_headers() -> None:
    assert "frame-ancestors 'none'" in HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in HEADERS["Content-Security-Policy"]
    assert HEADERS["X-Content-Type-Options"] == "nosniff"
    assert HEADERS["Server"] == "Concord"


def test_a_malformed_http_message_is_one_warning_line() -> None:
    import logging

    from aiohttp.http_exceptions import BadHttpMessage

    from concord.web.security import ProtocolErrors

    try:
        raise BadHttpMessage("Invalid character in Content-Length:\n  b'abc'")
    except BadHttpMessage as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            "",
            0,
            "Error handling request from %s",
            ("127.0.0.1",),
            (type(exc), exc, exc.__traceback__),
        )
    assert ProtocolErrors().filter(record)
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    message = record.getMessage()
    assert message.startswith("Bad HTTP request from 127.0.0.1: ")
    assert "\n" not in message


def test_a_genuine_server_error_keeps_its_traceback() -> None:
    import logging

    from concord.web.security import ProtocolErrors

    try:
        raise KeyError("bug")
    except KeyError as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            "",
            0,
            "Error handling request",
            (),
            (type(exc), exc, exc.__traceback__),
        )
    assert ProtocolErrors().filter(record)
    assert record.exc_info is not None


def test_a_request_the_broker_did_not_take_in_time_is_a_503_to_try_again() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from concord.web.security import UNAVAILABLE, install
    from concord.worker.acks import Unavailable

    async def frozen(request: web.Request) -> web.Response:
        raise Unavailable("the broker did not confirm within 10 s")

    def page(request: web.Request) -> web.Response:
        return web.Response(text="<p>Not now</p>", status=503, content_type="text/html")

    async def run() -> list[tuple[int, str, str | None, str]]:
        app = web.Application()
        install(app, page)
        app.router.add_post("/api/signals", frozen)
        app.router.add_get("/board", frozen)
        async with TestClient(TestServer(app)) as client:
            answers = []
            for method, path in (("POST", "/api/signals"), ("GET", "/board")):
                async with client.request(method, path) as resp:
                    retry = resp.headers.get("Retry-After")
                    answers.append((resp.status, resp.content_type, retry, await resp.text()))
            return answers

    (api, board) = asyncio.run(run())
    assert api[:3] == (503, "application/json", "5")
    assert json.loads(api[3]) == {"error": UNAVAILABLE}
    assert board == (503, "text/html", "5", "<p>Not now</p>")
