"""Sign-in for people (panel, coordinators, liaisons): `POST /login`, `GET /login/{token}`.

No passwords: `POST /login` emails a one-time link to an address the directory knows
(and says the same thing whether it knows it or not, so the form does not reveal who
is on the panel). The link opens a session: a signed, HttpOnly, SameSite=Lax cookie.
A link works once per worker process and for 15 minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from faust.web import Request, Response, View
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from concord.notifiers.base import Message, Recipient
from concord.notifiers.recipients import recipient_for
from concord.web.links import SESSION_MAX_AGE, LinkError, Session
from concord.web.throttle import SignInGuard

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "concord_session"


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
        # browser and proxy caches and out of Referer headers.
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
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


def current_session(c: Concord, request: Request) -> Session | None:
    """The signed-in person, or None."""
    cookie = cast(web.Request, request).cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        return c.signer.read_session(cookie)
    except LinkError:
        return None


def redirect(view: View, location: str) -> Response:
    return view.html("", status=303, headers={"Location": location})


def to_login(view: View, request: Request) -> Response:
    """Send a visitor without a session to the sign-in form, then back here."""
    return redirect(view, f"/login?next={quote(str(cast(web.Request, request).path_qs))}")


def _safe_next(value: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/review"


def register(c: Concord) -> None:
    env = page_env(c)
    render = page_renderer(c)
    guard = SignInGuard()
    sending: set[asyncio.Task[None]] = set()

    async def send_link(person: str, name: str, email: str, language: str, next_: str) -> None:
        token, _nonce = c.signer.login_link(person)
        link = f"{c.links_base.removesuffix('/t/')}/login/{token}?next={quote(next_)}"
        text = env.get_template("login.txt").render(name=name, link=link)
        message = Message(
            key=f"login.{person}.{token[-12:]}",
            recipient=Recipient(person, name, language, email=email),
            subject="[Concord] Sign-in link / Lien de connexion / Aanmeldlink",
            text=text,
            html="",
            slack_text="",
            slack_blocks=[],
        )
        # The shared pipeline: retries with backoff, a receipt per attempt, the metrics.
        receipts = await c.send(message, f"login:{person}", ["email"])
        if not any(r.ok for r in receipts):
            log.warning("sign-in link to %s not sent: %s", person, receipts[-1].error)

    @c.app.page("/login")
    class Login(View):
        async def get(self, request: Request) -> Response:
            return render(
                "login.html", next=_safe_next(request.query.get("next")), sent=False, error=None
            )

        async def post(self, request: Request) -> Response:
            form = await cast(web.Request, request).post()
            email = str(form.get("email", "")).strip()
            next_ = _safe_next(str(form.get("next", "")))
            if "@" not in email:
                return render(
                    "login.html", 422, next=next_, sent=False, error="Enter a valid email address."
                )
            found = c.directory.person_by_email(email)
            if found is not None:
                person, _role, _agency = found
                if guard.may_send(person):
                    found_as = recipient_for(c.directory, person)
                    name = found_as[0].name if found_as else person
                    # Sent in the background: the answer takes as long for an unknown
                    # address as for a known one, so it does not tell who is in the city's
                    # directory.
                    job = asyncio.ensure_future(
                        send_link(person, name, email, language_of(c, person), next_)
                    )
                    sending.add(job)
                    job.add_done_callback(sending.discard)
                else:
                    log.warning("sign-in links for %s throttled", person)
                    await c.audit("concord", "session.link_throttled", person, channel="web")
            # The same answer whether or not the address is known (or throttled).
            return render("login.html", next=next_, sent=True, error=None)

    @c.app.page("/login/{token}")
    class LoginLink(View):
        async def get(self, request: Request, token: str) -> Response:
            try:
                person, nonce = c.signer.read_login_link(token)
            except LinkError as exc:
                return render(
                    "message.html",
                    400 if not exc.expired else 410,
                    title="Sign-in link",
                    text=f"{exc}. Ask for a new one.",
                    link="/login",
                    link_text="Sign in",
                )
            found = role_of(c, person)
            if found is None or not guard.use(nonce):
                return render(
                    "message.html",
                    410,
                    title="Sign-in link",
                    text="This sign-in link has already been used. Ask for a new one.",
                    link="/login",
                    link_text="Sign in",
                )
            role, agency = found
            await c.audit(person, "session.signed_in", person, channel="web", role=role)
            cookie = c.signer.session(Session(person, role, agency))
            resp = redirect(self, _safe_next(request.query.get("next")))
            http = cast(web.Request, request)
            cast(web.Response, resp).set_cookie(
                COOKIE,
                cookie,
                max_age=SESSION_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=http.secure,
                path="/",
            )
            return resp

    @c.app.page("/logout")
    class Logout(View):
        async def post(self, request: Request) -> Response:
            resp = redirect(self, "/login")
            cast(web.Response, resp).del_cookie(COOKIE, path="/")
            return resp
