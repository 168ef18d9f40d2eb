"""The coordination board: `/board` (open situations and their tasks, filtered),
`/board/{situation_id}` (a situation's timeline and the coordinator's actions as forms)
and `/board/events` (server-sent events: the page updates without a reload).

What is shown and highlighted is `concord.core.board`'s; the forms go through the same
checks as the API (`concord.web.api.submit_change`, `concord.web.tasks.reassign`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from aiohttp import web
from aiohttp_sse import sse_response
from faust.web import Request, Response
from pydantic import ValidationError

from concord.common.types import utcnow
from concord.core import board as rules
from concord.streams.delivery import DeliveryRecord
from concord.streams.situations import SituationChangeIn, SituationState
from concord.web import texts
from concord.web.answer import Answer
from concord.web.api import submit_change
from concord.web.auth import Actor
from concord.web.body import Form, read_form
from concord.web.i18n import N_
from concord.web.session import COOKIE, current_session, page_for, viewer
from concord.web.site import Site, bind, error, redirect, route
from concord.web.tasks import reassign

#: Who sees the board; coordinators also act on it.
READERS = {"coordinator", "operator", "panel"}
#: How often an idle event stream says it is alive (proxies close silent connections),
#: and looks again whether its reader is still signed in.
KEEPALIVE_SECONDS = 15.0
#: Event streams one session or one API token may hold open at once (tabs, devices).
MAX_STREAMS = 5


@dataclass(frozen=True)
class Board:
    """The board's pages: the site, how long an event stream may stay quiet, how many
    streams one session or token may hold, and how many each holds now."""

    site: Site
    keepalive: float = KEEPALIVE_SECONDS
    max_streams: int = MAX_STREAMS
    open: Counter[str] = field(default_factory=Counter)


def deliveries(site: Site) -> dict[str, DeliveryRecord]:
    """task id -> the delivery of its message to its current assignee."""
    found: dict[str, DeliveryRecord] = {}
    for task in site.readmodel.tasks.values():
        record = site.readmodel.delivery_of(task)
        if record is not None:
            found[task.id] = record
    return found


async def show(b: Board, request: Request) -> Response:
    """`GET /board[?area=&category=&agency=&state=&drills=]`."""
    site = b.site
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    wanted = rules.Filters.of(dict(request.query))
    rows = rules.situations(
        site.readmodel.situations.values(),
        site.readmodel.tasks.values(),
        deliveries(site),
        wanted,
        utcnow(),
    )
    fragment = request.query.get("fragment") == "1"
    return site.pages.render(
        "board_rows.html" if fragment else "board.html",
        session=who,
        rows=rows,
        wanted=wanted,
        areas=[(a.code, a.name) for a in site.directory.areas],
        agencies=[(a.id, a.name) for a in site.directory.agencies],
        categories=sorted({c for s in site.readmodel.situations.values() for c in s.categories}),
        situation_states=[s.value for s in SituationState if s != SituationState.closed],
        task_states=sorted({t.state.value for t in site.readmodel.tasks.values()}),
        now=utcnow(),
    )


async def situation_page(
    b: Board,
    who: Actor,
    situation_id: str,
    status: int = 200,
    error: str | None = None,
    fragment: bool = False,
) -> Response:
    """A situation's page on the board: its timeline, tasks and the coordinator's forms."""
    site = b.site
    s = site.readmodel.situations.get(situation_id)
    if s is None:
        return site.pages.message(404, N_("Board"), N_("No such situation."), session=who)
    tasks = site.readmodel.tasks_of(s.id)
    review = site.readmodel.reviews.get(s.id)
    records = [r for t in tasks if (r := site.readmodel.delivery_of(t)) is not None]
    audit = site.readmodel.audit.about([s.id, *(t.id for t in tasks)])
    moments = rules.timeline(s, tasks, review, audit, records)
    others = [
        x
        for x in site.readmodel.situations.values()
        if x.id != s.id
        and x.area == s.area
        and x.exercise == s.exercise
        and x.state != SituationState.closed
    ]
    liaisons = [
        (lia.id, f"{lia.name} ({a.name})") for a in site.directory.agencies for lia in a.liaisons
    ]
    # The live fragment is the timeline only: the reports' text is opened (and audited)
    # when the page itself is.
    said = {} if fragment else await texts.read(site, s.signals, who.person, s.id, "web")
    return site.pages.render(
        "board_timeline.html" if fragment else "board_situation.html",
        status,
        session=who,
        s=s,
        tasks=tasks,
        review=review,
        moments=moments,
        said=said,
        refs=s.signals,
        others=others,
        liaisons=liaisons,
        may_act=who.role == "coordinator",
        csrf=site.signer.form_token(who.person, f"board:{s.id}"),
        error=error,
        notice=None,
        states=[x.value for x in SituationState if x != s.state],
    )


async def show_situation(b: Board, request: Request, situation_id: str) -> Response:
    """`GET /board/{id}`: the timeline, the tasks, and the coordinator's forms."""
    who = page_for(b.site, request, READERS)
    if not isinstance(who, Actor):
        return who
    return await situation_page(b, who, situation_id, fragment=request.query.get("fragment") == "1")


async def act(b: Board, request: Request, situation_id: str) -> Response:
    """`POST /board/{id}`: close or move, split, merge, reassign (coordinators, signed in)."""
    site = b.site
    session = current_session(site, request)
    who = page_for(site, request, {"coordinator"})
    if not isinstance(who, Actor):
        return who
    form = await read_form(request)
    if session is None or not site.signer.check_form(
        form.text("csrf"), who.person, f"board:{situation_id}"
    ):
        return await situation_page(b, who, situation_id, 403, N_("The form expired: try again."))
    answer = await perform(site, who, situation_id, form)
    if not answer.ok:
        return await situation_page(b, who, situation_id, answer.status, answer.problem)
    return redirect(f"/board/{situation_id}?done={form.text('action')}")


async def perform(site: Site, who: Actor, situation_id: str, form: Form) -> Answer:
    """One of the board's forms, through the API's own checks."""
    action = form.text("action")
    reason = form.text("reason")
    if action == "reassign":
        return await reassign(site, form.text("task"), who, form.text("assignee"), reason or None)
    if action not in ("state", "split", "merge"):
        return Answer(
            422, {"error": "invalid change", "errors": [{"loc": "action", "msg": "unknown"}]}
        )
    try:
        change = SituationChangeIn.model_validate(
            {
                "to": form.text("to") or None,
                "signals": form.getall("signals", []),
                "other": form.text("other") or None,
                "reason": reason,
            }
        )
    except ValidationError as exc:
        return Answer.invalid("change", exc)
    return await submit_change(site, situation_id, action, change, who.person)


def holder_of(request: Request) -> str:
    """Whose event stream this is: the session cookie's or the API token's holder, as a
    digest (the count of open streams keeps no secret in memory)."""
    http = cast(web.Request, request)
    secret = http.cookies.get(COOKIE) or http.headers.get("Authorization") or ""
    return hashlib.sha256(secret.encode()).hexdigest()


async def events(b: Board, request: Request) -> web.StreamResponse:
    """`GET /board/events`: one event per change of a situation, task, review or
    delivery (`data: {"kind", "key"}`), and a comment every so often to stay open.

    A stream lasts as long as its reader may read: it ends when the session is signed
    out (at once on this worker, within `keepalive` on another) or the token revoked.
    One holder keeps at most `max_streams` open (429 beyond). A reader who goes away is
    not an error: nothing is logged."""
    who = page_for(b.site, request, READERS)
    if not isinstance(who, Actor):
        return cast(web.StreamResponse, who)
    holder = holder_of(request)
    if b.open[holder] >= b.max_streams:
        return cast(web.StreamResponse, error(429, "too many event streams open"))
    b.open[holder] += 1
    queue = b.site.readmodel.listen()
    try:
        async with sse_response(cast(web.Request, request), ping_interval=b.keepalive) as stream:
            while stream.is_connected() and viewer(b.site, request) is not None:
                with contextlib.suppress(TimeoutError):
                    kind, key = await asyncio.wait_for(queue.get(), b.keepalive)
                    if kind != "session":  # a sign-out: only wakes the check above
                        await stream.send(json.dumps({"kind": kind, "key": key}), event="change")
            stream.force_close()  # no keep-alive: the connection ends with the stream
            return stream
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError is one
        return web.StreamResponse()  # the reader closed the tab
    finally:
        b.site.readmodel.unlisten(queue)
        b.open[holder] -= 1
        if not b.open[holder]:
            del b.open[holder]


def register(app: faust.App, site: Site) -> None:
    """Bind the board's pages and its event stream."""
    b = Board(site)
    route(app, "/board", get=bind(show, b))
    # A stream, not a Response: aiohttp takes either.
    route(app, "/board/events", get=bind(cast(Any, events), b))
    route(app, "/board/{situation_id}", get=bind(show_situation, b), post=bind(act, b))
