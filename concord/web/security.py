"""What every answer of the web server carries, and the request checks pages share.

- Security headers on every response (pages, API, errors): a Content-Security-Policy
  that allows only Concord's own scripts, styles and forms and no framing, `nosniff`,
  `X-Frame-Options: DENY`, no Referer, a `Server` header that names no version, and
  `Cache-Control: no-store` on everything but the static files.
- `same_origin`: a browser's POST comes from one of Concord's own pages (checked on
  the forms that work without a session, where the SameSite cookie cannot help).
- `secure_cookies`: cookies get `Secure` when Concord is reached over https (its public
  URL, the request itself, or the proxy's `X-Forwarded-Proto`).
- `loopback`: a request from this machine, addressed to it (not a rebound DNS name).
- A request the broker did not take in time (`worker.acks`) is answered 503 with
  `Retry-After`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from concord.worker.acks import RETRY_AFTER, Unavailable

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "Concord",
}


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp `on_response_prepare` hook: the security headers on every response."""
    for name, value in HEADERS.items():
        if name == "Content-Security-Policy" and name in response.headers:
            continue  # a view set a stricter-purpose policy of its own (chart images)
        response.headers[name] = value
    # Answers carry what reports say: no browser or proxy keeps a copy. Only the
    # static files, the same for everyone, may be cached.
    if "Cache-Control" not in response.headers and not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"


class ProtocolErrors(logging.Filter):
    """A malformed HTTP message is the client's mistake (answered 400 by aiohttp): one
    warning line, not an error with a traceback that reads like a bug of Concord's."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Turn aiohttp's error about a malformed request into one warning line."""
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            first = (str(exc.message) or type(exc).__name__).splitlines()[0][:200]
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            where = record.getMessage().replace("Error handling request", "Bad HTTP request")
            record.msg, record.args = f"{where}: {first}", ()
            record.exc_info, record.exc_text = None, None
        return True


@web.middleware
async def api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Under `/api/`, the router's own refusals (no such path, method not allowed) answer
    JSON like every other API error (`{"error": ...}`), not aiohttp's plain text."""
    try:
        return cast(web.StreamResponse, await handler(request))
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.json_response({"error": exc.reason.lower()}, status=exc.status, headers=allow)


#: What a person reads when the broker did not take their request in time.
UNAVAILABLE = (
    "the broker did not confirm in time, so nothing was shown or promised: "
    "send it again (a signal is taken once by its id)"
)


def unavailable(page: Callable[[web.Request], web.StreamResponse]) -> Any:
    """A middleware: a request whose records the broker did not take in time
    (`worker.acks.Unavailable`) is answered 503 with `Retry-After`, in JSON under
    `/api/` and with `page` elsewhere, not with a bare 500; one log line, no traceback."""

    @web.middleware
    async def answer(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return cast(web.StreamResponse, await handler(request))
        except Unavailable as exc:
            log.warning("%s %s answered 503: %s", request.method, request.path, exc)
            if request.path.startswith("/api/"):
                response: web.StreamResponse = web.json_response({"error": UNAVAILABLE}, status=503)
            else:
                response = page(request)
            response.headers["Retry-After"] = str(RETRY_AFTER)
            return response

    return answer


def install(
    web_app: web.Application, unavailable_page: Callable[[web.Request], web.StreamResponse]
) -> None:
    """Put the headers hook and the error middlewares on the web server (before it
    starts), and quiet the server's log about malformed requests. `unavailable_page`:
    the page a browser gets when the broker did not take its request in time."""
    web_app.on_response_prepare.append(add_headers)
    web_app.middlewares.append(api_errors)
    web_app.middlewares.append(unavailable(unavailable_page))
    logging.getLogger("aiohttp.server").addFilter(ProtocolErrors())


def same_origin(request: Any) -> bool:
    """False when a browser says the request comes from another site.

    Browsers send `Sec-Fetch-Site` on every request; older ones only `Origin` (which is
    `null` under our `no-referrer` policy, so it cannot tell). Clients that send neither
    (scripts, curl) are not browsers a page could drive, so they pass.
    """
    http = cast(web.Request, request)
    fetch_site = http.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = http.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == http.host


def secure_cookies(request: Any, public_url: str | None) -> bool:
    """Whether cookies set on this request must be `Secure`."""
    http = cast(web.Request, request)
    forwarded = http.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return bool(
        http.secure or forwarded == "https" or (public_url or "").lower().startswith("https:")
    )


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback(request: Any) -> bool:
    """A request from this machine to this machine by its loopback name.

    The `Host` check stops DNS rebinding: a page elsewhere cannot read a loopback-only
    page through a name it points at 127.0.0.1."""
    http = cast(web.Request, request)
    peer = http.remote or ""
    host = urlsplit(f"//{http.host}").hostname or ""
    return _is_loopback(peer) and _is_loopback(host)
