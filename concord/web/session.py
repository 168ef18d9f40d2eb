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
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlsplit

import faust
from aiohttp import web
from faust.web import Request, Response

from concord.access.links import SESSION_MAX_AGE, LinkError, Session
from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.delivery.compose import Compose
from concord.notifiers.recipients import recipient_for
from concord.streams.access import SessionMark
from concord.web.auth import Actor, authenticate
from concord.web.body import Form, read_form
from concord.web.i18n import N_
from concord.web.security import same_origin, secure_cookies
from concord.web.site import Site, bind, redirect, route, to_login
from concord.web.throttle import SignInGuard

log = logging.getLogger(__name__)

COOKIE = "concord_session"
FORM_COOKIE = "concord_login"  # binds the sign-in form's anti-forgery token to the browser
#: Largest sign-in form.
MAX_FORM = 8_000


def role_of(directory: Directory, person: str) -> tuple[str, str | None] | None:
    """(role, agency) a person signs in with: panel, coordinator or liaison; None if unknown."""
    if directory.panel_member(person):
        return "panel", None
    if directory.coordinator(person):
        return "coordinator", None
    found = directory.liaison(person)
    return ("liaison", found[0].id) if found else None


def current_session(site: Site, request: Request) -> Session | None:
    """The signed-in person, or None (no cookie, a bad or old one, or signed out)."""
    cookie = cast(web.Request, request).cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        session = site.signer.read_session(cookie)
    except LinkError:
        return None
    return None if site.readmodel.revoked(session.id) else session


#: Where each role lands after signing in, when no page asked for the sign-in.
LANDING = {"panel": "/review", "coordinator": "/board", "liaison": "/tasks"}


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
    """Where a person lands after signing in: a local `next=` path, else their role's page."""
    return safe_next(next_) or LANDING.get(role, "/")


@dataclass
class SignIn:
    """The sign-in of one worker: the site, who composes the email, the throttle."""

    site: Site
    compose: Compose
    guard: SignInGuard = field(default_factory=SignInGuard)
    sending: set[asyncio.Future[None]] = field(default_factory=set)


async def send_link(s: SignIn, person: str, name: str, email: str, next_: str) -> None:
    """Email a one-time sign-in link (in the background; the form answers the same either way)."""
    token, _nonce = s.site.signer.login_link(person)
    suffix = f"?next={quote(next_)}" if next_ else ""
    link = f"{s.site.links_base.removesuffix('/t/')}/login/{token}{suffix}"
    text = s.site.pages.text("login.txt", name=name, link=link)
    # The delivery stage sends it (retries, receipts, metrics, once per key).
    await s.site.flow.post(s.compose.sign_in(person, email, text, token, utcnow()))


def set_cookie(
    site: Site, request: Request, response: Response, name: str, value: str, **options: Any
) -> None:
    """Set the session cookie (signed, HttpOnly, SameSite=Lax, Secure over https)."""
    secure = secure_cookies(request, site.public_url)
    cast(web.Response, response).set_cookie(name, value, httponly=True, secure=secure, **options)


def login_form(site: Site, request: Request, status: int = 200, **ctx: Any) -> Response:
    """The sign-in form, with a fresh anti-forgery token bound to a cookie."""
    nonce = secrets.token_urlsafe(16)
    ctx.setdefault("sent", False)
    ctx.setdefault("error", None)
    csrf = site.signer.form_token(nonce, "login")
    lang = site.language(request)
    response = site.pages.render("login.html", status, lang=lang, csrf=csrf, **ctx)
    set_cookie(
        site, request, response, FORM_COOKIE, nonce, max_age=3600, samesite="Strict", path="/login"
    )
    return response


def genuine(site: Site, request: Request, posted: Form) -> bool:
    """The sign-in form was posted from Concord's own page, by this browser."""
    nonce = cast(web.Request, request).cookies.get(FORM_COOKIE, "")
    return (
        same_origin(request)
        and bool(nonce)
        and site.signer.check_form(posted.text("csrf"), nonce, "login")
    )


def link_refused(site: Site, request: Request, exc: LinkError | None) -> Response:
    """The page that says why a sign-in link cannot be used."""
    text = N_("This sign-in link has already been used. Ask for a new one.")
    if exc is not None:
        text = N_("%(why)s. Ask for a new one.")
    status = 410 if exc is None or exc.expired else 400
    return site.pages.message(
        status,
        N_("Sign-in link"),
        text,
        lang=site.language(request),
        args={"why": str(exc)},
        link="/login",
        link_text=N_("Sign in"),
    )


async def show_form(s: SignIn, request: Request) -> Response:
    """`GET /login`."""
    return login_form(s.site, request, next=safe_next(request.query.get("next")) or "")


async def ask_link(s: SignIn, request: Request) -> Response:
    """`POST /login`: email a sign-in link to a known address (the answer is the same for
    an unknown one)."""
    site = s.site
    posted = await read_form(request, MAX_FORM)
    email = posted.text("email")
    next_ = safe_next(posted.text("next")) or ""
    if not genuine(site, request, posted):
        return login_form(site, request, 403, next=next_, error=N_("The form expired: try again."))
    if "@" not in email or len(email) > 320:
        return login_form(site, request, 422, next=next_, error=N_("Enter a valid email address."))
    found = site.directory.person_by_email(email)
    if found is not None:
        person = found[0]
        if s.guard.may_send(person):
            found_as = recipient_for(site.directory, person)
            name = found_as[0].name if found_as else person
            # Sent in the background: the answer takes as long for an unknown address as
            # for a known one, so it does not tell who is in the city's directory.
            job = asyncio.ensure_future(send_link(s, person, name, email, next_))
            s.sending.add(job)
            job.add_done_callback(s.sending.discard)
        else:
            log.warning("sign-in links for %s throttled", person)
            await site.flow.audit("concord", "session.link_throttled", person, via="web")
    # The same answer whether or not the address is known (or throttled).
    return login_form(site, request, next=next_, sent=True)


def check_link(s: SignIn, request: Request, token: str) -> tuple[str, str] | Response:
    """The person and nonce of a sign-in link that may be used, or the page saying why not."""
    try:
        person, nonce = s.site.signer.read_login_link(token)
    except LinkError as exc:
        return link_refused(s.site, request, exc)
    if (
        role_of(s.site.directory, person) is None
        or s.site.readmodel.link_used(nonce)
        or s.guard.used(nonce)
    ):
        return link_refused(s.site, request, None)
    return person, nonce


async def confirm_link(s: SignIn, request: Request, token: str) -> Response:
    """`GET /login/{token}`: a link scanner follows links, so GET only asks; POST signs in."""
    found = check_link(s, request, token)
    if not isinstance(found, tuple):
        return found
    person, _nonce = found
    who = recipient_for(s.site.directory, person)
    return s.site.pages.render(
        "login_confirm.html",
        lang=s.site.language(request, person),
        who=who[0].name if who else person,
        next=safe_next(request.query.get("next")) or "",
    )


async def use_link(s: SignIn, request: Request, token: str) -> Response:
    """`POST /login/{token}`: the link is used (once, on every worker); a session begins."""
    site = s.site
    if not same_origin(request):
        return link_refused(
            site, request, LinkError("this sign-in was not asked from Concord's page")
        )
    found = check_link(s, request, token)
    if not isinstance(found, tuple):
        return found
    person, nonce = found
    posted = await read_form(request, MAX_FORM)
    if not s.guard.use(nonce):
        return link_refused(site, request, None)
    role, agency = role_of(site.directory, person) or ("", None)
    used = SessionMark(kind="link_used", id=nonce, person=person)
    site.readmodel.mark(used)
    await site.flow.acked(site.flow.topics.sessions.send(key=nonce, value=used))
    await site.flow.audit(person, "session.signed_in", person, via="web", role=role)
    cookie = site.signer.session(Session(person, role, agency))
    response = redirect(landing(role, posted.text("next")))
    set_cookie(
        site, request, response, COOKIE, cookie, max_age=SESSION_MAX_AGE, samesite="Lax", path="/"
    )
    return response


async def logout(site: Site, request: Request) -> Response:
    """`POST /logout`: the session is revoked on every worker."""
    session = current_session(site, request)
    if session is not None and session.id:
        # Revoked everywhere: the cookie is refused even if someone kept it.
        mark = SessionMark(kind="revoked", id=session.id, person=session.person)
        site.readmodel.mark(mark)
        await site.flow.acked(site.flow.topics.sessions.send(key=session.id, value=mark))
        await site.flow.audit(session.person, "session.signed_out", session.person, via="web")
    response = redirect("/login")
    cast(web.Response, response).del_cookie(COOKIE, path="/")
    return response


def register(app: faust.App, site: Site, compose: Compose) -> None:
    """Bind the sign-in pages."""
    s = SignIn(site, compose)
    route(app, "/login", get=bind(show_form, s), post=bind(ask_link, s))
    route(app, "/login/{token}", get=bind(confirm_link, s), post=bind(use_link, s))
    route(app, "/logout", post=bind(logout, site))


def viewer(site: Site, request: Request) -> Actor | None:
    """Who is looking at a page: the signed-in person, else the holder of an API token
    (`Authorization: Bearer`, for scripts: the indicators' CSV), else None."""
    session = current_session(site, request)
    if session is not None:
        return Actor.of_session(session)
    token = authenticate(site.readmodel, request.headers.get("Authorization"))
    return Actor.of_token(token) if token is not None else None


def page_for(site: Site, request: Request, roles: set[str]) -> Actor | Response:
    """The viewer of a page open to `roles`, or the answer: the sign-in form for nobody
    (303), 403 for a role that may not see it."""
    who = viewer(site, request)
    if who is None:
        return to_login(request)
    if who.role not in roles:
        return site.pages.message(
            403, N_("Not for you"), N_("This page is not open to your role."), session=who
        )
    return who
