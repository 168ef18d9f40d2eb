"""What every web view shares, and how views are bound to paths.

A view is a top-level function `async def view(site, ..., request, **path) -> Response`;
`route(app, path, get=..., post=...)` binds such functions (with their dependencies
already given, by `functools.partial`) to a path of Faust's web server. Faust's web
errors (`NotAuthenticated` 401, `PermissionDenied` 403, ...) raised in a view are
answered as JSON by Faust.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from aiohttp import web
from faust.utils import json as faust_json
from faust.web import Request, Response, View

from concord import templating
from concord.directory import Directory
from concord.links import Signer
from concord.runtime import Flow
from concord.web.readmodel import ReadModel

TEMPLATES = Path(__file__).parent / "templates"

Handler = Callable[..., Awaitable[Response]]


class Pages:
    """The page templates: `render(template, status=200, **context)` -> an HTML response."""

    def __init__(self, timezone: str) -> None:
        self.env = templating.files(TEMPLATES, timezone, missing="—")

    def text(self, template: str, **context: Any) -> str:
        """A template rendered as text (a sign-in email's body)."""
        return self.env.get_template(template).render(**context)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("session", None)
        html = self.env.get_template(template).render(**context)
        # Every page shows sensitive data (analyses, tasks, persons): keep it out of
        # browser and proxy caches (`concord.web.security` adds the other headers).
        headers = {"Cache-Control": "no-store"}
        return cast(
            Response,
            web.Response(text=html, status=status, content_type="text/html", headers=headers),
        )

    def message(self, status: int, title: str, text: str, **context: Any) -> Response:
        """The page that explains something (an error, a refusal, a thank-you)."""
        return self.render("message.html", status, title=title, text=text, **context)


@dataclass(frozen=True)
class Site:
    """What the views read and send through: the read model (what the board knows), the
    flow (topics and audit), the directory, the link signer and the page templates."""

    flow: Flow
    view: ReadModel
    directory: Directory
    signer: Signer
    pages: Pages
    #: the public URL people reach Concord at (None: this worker's own address)
    public_url: str | None
    #: the URL signed email links start with (`{public_url}/t/`)
    links_base: str


def route(app: Any, path: str, *, get: Handler | None = None, post: Handler | None = None) -> None:
    """Bind view functions to `path` (each is called with the request and the path's
    parameters)."""
    methods: dict[str, Any] = {}
    if get is not None:
        methods["get"] = _method(get)
    if post is not None:
        methods["post"] = _method(post)
    name = "View " + path
    app.page(path, name=name)(type(name, (View,), methods))


def _method(handler: Handler) -> Callable[..., Awaitable[Response]]:
    async def method(self: View, request: Request, **params: Any) -> Response:
        return await handler(request, **params)

    return method


def bind(view: Callable[..., Awaitable[Response]], *deps: Any) -> Handler:
    """A view with its dependencies given (`route(app, path, get=bind(view, site))`)."""
    return functools.partial(view, *deps)


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (datetimes as ISO strings, like Faust's own)."""
    text = faust_json.dumps(value)
    return cast(
        Response,
        web.Response(text=text, status=status, content_type="application/json", headers=headers),
    )


def error(status: int, message: str, **extra: Any) -> Response:
    """`{"error": message, ...}` with `status`."""
    return json_response({"error": message, **extra}, status)


def bytes_response(
    value: bytes, content_type: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return cast(
        Response,
        web.Response(body=value, status=status, content_type=content_type, headers=headers),
    )


def redirect(location: str) -> Response:
    """303 See Other (after a form's POST)."""
    return cast(Response, web.Response(status=303, headers={"Location": location}))


def to_login(request: Request) -> Response:
    """Send a visitor without a session to the sign-in form, then back here."""
    return redirect(f"/login?next={quote(str(cast(web.Request, request).path_qs))}")
