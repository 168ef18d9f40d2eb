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
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from aiohttp import web
from faust.utils import json as faust_json
from faust.web import Request, Response, View
from jinja2 import pass_context
from jinja2.runtime import Context

from concord.access.links import Signer
from concord.common import templating
from concord.config.directory import Directory
from concord.web.i18n import N_, SOURCE, Catalogues
from concord.web.readmodel import ReadModel
from concord.worker.runtime import Flow

TEMPLATES = Path(__file__).parent / "templates"

Handler = Callable[..., Awaitable[Response]]


class Pages:
    """The page templates: `render(template, status, lang=..., **context)` -> HTML.

    Templates say their words through `_()` (gettext, `concord.web.i18n`); `lang` picks
    the catalogue, sets `<html lang>` and writes times the reader's way (`localtime`)."""

    def __init__(self, timezone: str, directory: Directory | None = None) -> None:
        self.directory = directory
        areas = directory.areas if directory else []
        agencies = directory.agencies if directory else []
        #: every page may name areas and agencies as people call them
        self._names = {
            "area_names": {a.code: a.name for a in areas},
            "agency_names": {a.id: a.name for a in agencies},
            "person_names": directory.people() if directory else {},
            "zone": timezone,
        }
        self.catalogues = Catalogues(timezone)
        self.env = templating.files(TEMPLATES, timezone, missing="—", gettext=True)
        catalogues = self.catalogues

        @pass_context
        def localtime(context: Context, value: datetime | None) -> str:
            return catalogues.time(value, context.get("lang", SOURCE))

        @pass_context
        def duration(context: Context, seconds: float | None) -> str:
            return catalogues.duration(seconds, context.get("lang", SOURCE))

        @pass_context
        def words(context: Context, code: Any) -> str:
            return catalogues.words(str(getattr(code, "value", code)), context.get("lang", SOURCE))

        @pass_context
        def msg(context: Context, message_id: Any, values: dict[str, Any] | None = None) -> str:
            return catalogues.message(str(message_id), context.get("lang", SOURCE), values)

        names = {a.code: a.name for a in areas}

        @pass_context
        def label(context: Context, situation: Any) -> str:
            """A situation as people name it: `Vandalism · Centre-ville · 5 Dec 2026 20:42`
            (its first category, its home area, when its first incident happened)."""
            lang = context.get("lang", SOURCE)
            refs = situation.signals
            first = min(r.occurred_at for r in refs) if refs else situation.opened_at
            what = catalogues.words(str(situation.categories[0]), lang) if refs else ""
            named = directory.area_names(lang) if directory else names
            where = named.get(situation.area, situation.area)
            return f"{what[:1].upper()}{what[1:]} · {where} · {catalogues.time(first, lang)}"

        self.env.globals["label"] = label
        self.env.filters["localtime"] = localtime
        self.env.filters["words"] = words
        self.env.filters["msg"] = msg
        self.env.filters["duration"] = duration

    def text(self, template: str, lang: str = SOURCE, **context: Any) -> str:
        """A template rendered as text (a sign-in email's body)."""
        return self._render(template, lang, context)

    def _render(self, template: str, lang: str, context: dict[str, Any]) -> str:
        # Rendering is synchronous (no await between install and render), so one
        # environment serves every language in turn.
        self.env.install_gettext_translations(  # type: ignore[attr-defined]
            self.catalogues.translations(lang), newstyle=True
        )
        context.update(lang=lang, languages=self.catalogues.languages, **self._names)
        if self.directory is not None:  # names in the page's language, where given
            context.update(
                area_names=self.directory.area_names(lang),
                agency_names=self.directory.agency_names(lang),
            )
        return self.env.get_template(template).render(**context)

    def render(
        self, template: str, status: int = 200, *, lang: str | None = None, **context: Any
    ) -> Response:
        """`lang`: the page's language; by default the signed-in person's (`session`)."""
        context.setdefault("session", None)
        html = self._render(template, lang or self.language_of(context["session"]), context)
        # Every page shows sensitive data (analyses, tasks, persons): keep it out of
        # browser and proxy caches (`concord.web.security` adds the other headers).
        headers = {"Cache-Control": "no-store"}
        return cast(
            Response,
            web.Response(text=html, status=status, content_type="text/html", headers=headers),
        )

    def gettext(self, message: str, session: Any, **values: Any) -> str:
        """`message` in the signed-in person's language (for text made in Python)."""
        text = self.catalogues.translations(self.language_of(session)).gettext(message)
        return text % values if values else text

    def language_of(self, session: Any) -> str:
        """The signed-in person's page language (`language_of_person`)."""
        return self.language_of_person(getattr(session, "person", None))

    def language_of_person(self, person: str | None) -> str:
        """A person's page language, the one rule every page and link asks: theirs in the
        directory if the pages speak it, else the city's first language, else the
        catalogues' source language."""
        found = self.spoken_by(person)
        if found is not None:
            return found
        default = self.directory.city.languages[0] if self.directory is not None else SOURCE
        return self.catalogues.choose(None, None, default)

    def spoken_by(self, person: str | None) -> str | None:
        """The person's language from the directory if the pages speak it, else None."""
        if person is None or self.directory is None:
            return None
        found = self.directory.person_language(person)
        return found if found and self.catalogues.speaks(found) else None

    def message(
        self, status: int, title: str, text: str, *, lang: str | None = None, **context: Any
    ) -> Response:
        """The page that explains something (an error, a refusal, a thank-you).

        `title` and `text` are catalogue entries (marked `N_` where they are written);
        `text` may hold `%(name)s` placeholders filled from `args`."""
        return self.render("message.html", status, lang=lang, title=title, text=text, **context)


@dataclass(frozen=True)
class Site:
    """What the views read and send through: the read model (what the board knows), the
    flow (topics and audit), the directory, the link signer and the page templates."""

    flow: Flow
    readmodel: ReadModel
    directory: Directory
    signer: Signer
    pages: Pages
    #: the public URL people reach Concord at (None: this worker's own address)
    public_url: str | None
    #: the URL signed email links start with (`{public_url}/t/`)
    links_base: str

    def unavailable(self, request: Request) -> Response:
        """The page a browser gets when the broker did not take its request in time
        (answered 503 by `concord.web.security`): nothing was done, try again."""
        return self.pages.message(
            503,
            N_("Not now"),
            N_(
                "Concord could not confirm just now that this was saved, so nothing was "
                "shown. Try again in a few seconds."
            ),
            lang=self.language(request),
        )

    def language(self, request: Request, person: str | None = None) -> str:
        """The language of a page: the person's (directory) when they are known, else
        `?lang=`, the browser's Accept-Language, the city's first language."""
        found = self.pages.spoken_by(person)
        if found is not None:
            return found
        return self.pages.catalogues.choose(
            request.query.get("lang"),
            request.headers.get("Accept-Language"),
            self.directory.city.languages[0],
        )


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
    """A response of raw bytes (images, CSV)."""
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
