"""Sign-in for people (panel, coordinators, liaisons): `POST /login`, `GET /login/{token}`.

No passwords: `POST /login` emails a one-time link to an address the directory knows
(and says the same thing whether it knows it or not, so the form does not reveal who
is on the panel). The link opens a session: a signed, HttpOnly, SameSite=Lax cookie.
A link works once per worker process and for 15 minutes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from faust.web import Request, Response, View
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from concord.links import SESSION_MAX_AGE, LinkError, Session
from concord.notifiers.recipients import recipient_for
from concord.streams.access import SessionMark
from concord.types import utcnow
from concord.web.body import Form, read_form
from concord.web.readmodel import ReadModel
from concord.web.security import same_origin, secure_cookies
from concord.web.throttle import SignInGuard

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "concord_session"
FORM_COOKIE = "concord_login"  # binds the sign-in form's anti-forgery token to the browser


def page_env(c: Concord) -> Environment:
    """Jinja2 for pages: autoescaped HTML, strict, dates in the city's time zone."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    tz = ZoneInfo(c.directory.city.timezone)

    def localtime(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    env.filters["localtime"] = localtime
    return env


Render = Callable[..., Response]


def page_renderer(c: Concord) -> Render:
    """`render(template, status=200, **context)` -> an HTML response (no session unless given)."""
    env = page_env(c)

    def render(name: str, status: int = 200, **ctx: Any) -> Response:
        ctx.setdefault("session", None)
        html = env.get_template(name).render(**ctx)
        # Every page shows sensitive data (analyses, tasks, persons): keep it out of
        # browser and proxy caches (`concord.web.security` adds the other headers).
        headers = {"Cache-Control": "no-store"}
        response = web.Response(text=html, status=status, content_type="text/html", headers=headers)
        return cast(Response, response)

    return render


def language_of(c: Concord, person: str) -> str:
    """The person's language from the directory (the city's first language if unknown)."""
    found = recipient_for(c.directory, person)
    return found[0].language if found else c.directory.city.languages[0]


def role_of(c: Concord, person: str) -> tuple[str, str | None] | None:
    """(role, agency) a person signs in with: panel, coordinator or liaison; None if unknown."""
    d = c.directory
    if d.panel_member(person):
        return "panel", None
    if d.coordinator(person):
        return "coordinator", None
    found = d.liaison(person)
    return ("liaison", found[0].id) if found else None


def current_session(c: Concord, view: ReadModel, request: Request) -> Session | None:
    """The signed-in person, or None (no cookie, a bad or old one, or signed out)."""
    cookie = cast(web.Request, request).cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        session = c.signer.read_session(cookie)
    except LinkError:
        return None
    return None if view.revoked(session.id) else session


def redirect(view: View, location: str) -> Response:
    return view.html("", status=303, headers={"Location": location})


def to_login(view: View, request: Request) -> Response:
    """Send a visitor without a session to the sign-in form, then back here."""
    return redirect(view, f"/login?next={quote(str(cast(web.Request, request).path_qs))}")


#: Where each role lands after signing in, when no page asked for the sign-in.
LANDING = {"panel": "/review", "coordinator": "/review", "liaison": "/review"}


def safe_next(value: str | None) -> str | None:
    """A local path to go to after signing in, or None: never an open redirect.

    Browsers read `/\\host`, `/<tab>/host` and `//host` as another site, so anything
    but a plain path on this site (printable ASCII, no backslash, not `//`) is refused.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or any(not "!" <= ch <= "~" or ch == "\\" for ch in value):
        return None
    parts = urlsplit(value)
    return value if not (parts.scheme or parts.netloc) else None


def landing(role: str, next_: str | None) -> str:
    return safe_next(next_) or LANDING.get(role, "/review")


def register(c: Concord, view: ReadModel) -> None:
    env = page_env(c)
    render = page_renderer(c)
    guard = SignInGuard()
    sending: set[asyncio.Task[None]] = set()

    async def send_link(person: str, name: str, email: str, next_: str) -> None:
        token, _nonce = c.signer.login_link(person)
        suffix = f"?next={quote(next_)}" if next_ else ""
        link = f"{c.links_base.removesuffix('/t/')}/login/{token}{suffix}"
        text = env.get_template("login.txt").render(name=name, link=link)
        # The delivery stage sends it (retries, receipts, metrics, once per key).
        await c.post(c.compose.sign_in(person, email, text, token, utcnow()))

    def form(request: Request, status: int = 200, **ctx: Any) -> Response:
        """The sign-in form, with a fresh anti-forgery token bound to a cookie."""
        nonce = secrets.token_urlsafe(16)
        ctx.setdefault("sent", False)
        ctx.setdefault("error", None)
        response = render("login.html", status, csrf=c.signer.form_token(nonce, "login"), **ctx)
        cast(web.Response, response).set_cookie(
            FORM_COOKIE,
            nonce,
            max_age=3600,
            httponly=True,
            samesite="Strict",
            secure=secure_cookies(request, c.settings.public_url),
            path="/login",
        )
        return response

    def genuine(request: Request, posted: Form) -> bool:
        """The sign-in form was posted from Concord's own page, by this browser."""
        nonce = cast(web.Request, request).cookies.get(FORM_COOKIE, "")
        return (
            same_origin(request)
            and bool(nonce)
            and c.signer.check_form(posted.text("csrf"), nonce, "login")
        )

    def link_refused(exc: LinkError | None) -> Response:
        text = (
            "This sign-in link has already been used. Ask for a new one."
            if exc is None
            else f"{exc}. Ask for a new one."
        )
        status = 410 if exc is None or exc.expired else 400
        return render(
            "message.html",
            status,
            title="Sign-in link",
            text=text,
            link="/login",
            link_text="Sign in",
        )

    @c.app.page("/login")
    class Login(View):
        async def get(self, request: Request) -> Response:
            return form(request, next=safe_next(request.query.get("next")) or "")

        async def post(self, request: Request) -> Response:
            posted = await read_form(request, 8_000)
            email = posted.text("email")
            next_ = safe_next(posted.text("next")) or ""
            if not genuine(request, posted):
                return form(request, 403, next=next_, error="The form expired: try again.")
            if "@" not in email or len(email) > 320:
                return form(request, 422, next=next_, error="Enter a valid email address.")
            found = c.directory.person_by_email(email)
            if found is not None:
                person, _role, _agency = found
                if guard.may_send(person):
                    found_as = recipient_for(c.directory, person)
                    name = found_as[0].name if found_as else person
                    # Sent in the background: the answer takes as long for an unknown
                    # address as for a known one, so it does not tell who is in the city's
                    # directory.
                    job = asyncio.ensure_future(send_link(person, name, email, next_))
                    sending.add(job)
                    job.add_done_callback(sending.discard)
                else:
                    log.warning("sign-in links for %s throttled", person)
                    await c.audit("concord", "session.link_throttled", person, channel="web")
            # The same answer whether or not the address is known (or throttled).
            return form(request, next=next_, sent=True)

    @c.app.page("/login/{token}")
    class LoginLink(View):
        def _check(self, token: str) -> tuple[str, str] | Response:
            try:
                person, nonce = c.signer.read_login_link(token)
            except LinkError as exc:
                return link_refused(exc)
            if role_of(c, person) is None or view.link_used(nonce) or guard.used(nonce):
                return link_refused(None)
            return person, nonce

        async def get(self, request: Request, token: str) -> Response:
            # A link scanner follows links: GET only asks; POST signs in.
            found = self._check(token)
            if not isinstance(found, tuple):
                return found
            person, _nonce = found
            who = recipient_for(c.directory, person)
            return render(
                "login_confirm.html",
                who=who[0].name if who else person,
                next=safe_next(request.query.get("next")) or "",
            )

        async def post(self, request: Request, token: str) -> Response:
            if not same_origin(request):
                return link_refused(LinkError("this sign-in was not asked from Concord's page"))
            found = self._check(token)
            if not isinstance(found, tuple):
                return found
            person, nonce = found
            posted = await read_form(request, 8_000)
            if not guard.use(nonce):
                return link_refused(None)
            role, agency = role_of(c, person) or ("", None)
            used = SessionMark(kind="link_used", id=nonce, person=person)
            view.mark(used)
            await (await c.topics.sessions.send(key=nonce, value=used))
            await c.audit(person, "session.signed_in", person, channel="web", role=role)
            cookie = c.signer.session(Session(person, role, agency))
            resp = redirect(self, landing(role, posted.text("next")))
            cast(web.Response, resp).set_cookie(
                COOKIE,
                cookie,
                max_age=SESSION_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=secure_cookies(request, c.settings.public_url),
                path="/",
            )
            return resp

    @c.app.page("/logout")
    class Logout(View):
        async def post(self, request: Request) -> Response:
            session = current_session(c, view, request)
            if session is not None and session.id:
                # Revoked on every worker: the cookie is refused even if someone kept it.
                mark = SessionMark(kind="revoked", id=session.id, person=session.person)
                view.mark(mark)
                await (await c.topics.sessions.send(key=session.id, value=mark))
                await c.audit(session.person, "session.signed_out", session.person, channel="web")
            resp = redirect(self, "/login")
            cast(web.Response, resp).del_cookie(COOKIE, path="/")
            return resp
