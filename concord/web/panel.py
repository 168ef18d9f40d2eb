"""The panel's web pages: `/review` (the queue) and `/review/{id}` (analysis and vote).

They need a session (see `concord.web.session`); panel members vote there, coordinators
read. The signed links of the panel's emails are `concord.web.email_links`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.web import Request, Response

from concord.access.links import Session
from concord.core.analysis import draft
from concord.notifiers.render import Renderer
from concord.streams.reviews import ReviewRecord
from concord.streams.situations import Situation
from concord.streams.votes import Decision
from concord.web import texts, votes
from concord.web.answer import Answer
from concord.web.body import Form, read_form
from concord.web.i18n import N_
from concord.web.reportwords import INDICATOR_WORDS
from concord.web.session import current_session
from concord.web.site import Site, bind, redirect, route, to_login
from concord.web.votes import Ballot

REVIEWERS = {"panel", "coordinator"}


@dataclass(frozen=True)
class PanelPages:
    """What the panel's pages need: the ballot, and the renderer of the analysis text."""

    ballot: Ballot
    renderer: Renderer

    @property
    def site(self) -> Site:
        """The site the panel's pages share."""
        return self.ballot.site

    def analysis(self, record: ReviewRecord, language: str) -> str:
        """The analysis as the panel reads it (the same text as in their email)."""
        area = self.site.directory.area(record.area)
        d = draft(record.situation, area.name if area else record.area, record.current)
        return self.renderer.analysis_text(d, language)


def indicators_of(situation: Situation) -> list[str]:
    """The bias indicators its reports give, each once, in the order they came."""
    return list(dict.fromkeys(str(i) for r in situation.signals for i in r.indicators))


def whole(text: Any) -> Any:
    """A form's number as the API takes it (the API refuses "3" for 3); anything else
    as typed, for the API to name the field."""
    value = str(text or "").strip()
    return int(value) if value.isascii() and value.isdigit() else text


def amendment(form: Form) -> dict[str, Any] | None:
    """The amendment fields of the review form, as the API takes them."""
    out: dict[str, Any] = {}
    if form.get("severity"):
        out["severity"] = whole(form.get("severity"))
    drops = form.getall("drop", [])
    if drops:
        out["drop_tasks"] = list(drops)
    if form.get("add_playbook"):
        out["add_playbooks"] = [form.get("add_playbook")]
    if form.text("note").strip():
        out["note"] = form.get("note")
    return out or None


async def queue(p: PanelPages, request: Request) -> Response:
    """`GET /review`: reviews waiting for the panel, and the last ones decided."""
    site = p.site
    session = current_session(site, request)
    if session is None:
        return to_login(request)
    if session.role not in REVIEWERS:
        text = N_(
            "Only panel members and coordinators see the review queue. "
            "Your tasks reach you by Slack or email; each links to its own page."
        )
        return site.pages.message(403, N_("Review queue"), text, session=session)
    items = sorted(site.readmodel.reviews.values(), key=lambda r: r.opened_at, reverse=True)
    mine = {
        r.situation_id: f"{site.pages.gettext(v.decision, session)} (v{v.version})"
        for r in items
        for v in r.votes
        if v.member == session.person
    }
    return site.pages.render(
        "review_queue.html",
        session=session,
        pending=[r for r in items if r.outcome == "pending"],
        decided=[r for r in items if r.outcome != "pending"][:50],
        areas={a.code: a.name for a in site.directory.areas},
        mine=mine,
    )


async def review_page(
    p: PanelPages,
    session: Session,
    record: ReviewRecord,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    """The analysis, the votes so far and (for a member who may vote) the vote form."""
    site = p.site
    mine = next((v for v in reversed(record.votes) if v.member == session.person), None)
    can_vote = (
        session.role == "panel"
        and record.outcome == "pending"
        and not (mine is not None and mine.decision == "conflict")
    )
    situation = site.readmodel.situations.get(record.situation_id) or record.situation
    said = await texts.read(site, situation.signals, session.person, situation.id, "web")
    return site.pages.render(
        "review.html",
        status,
        session=session,
        r=record,
        analysis=p.analysis(record, site.pages.language_of(session)),
        can_vote=can_vote,
        said=said,
        refs=situation.signals,
        indicators=indicators_of(situation),
        indicator_words=INDICATOR_WORDS,
        mine=mine,
        csrf=site.signer.form_token(session.person, record.situation_id),
        playbooks=sorted(p.ballot.playbooks.matcher.by_id),
        notice=notice,
        error=error,
    )


async def show(p: PanelPages, request: Request, situation_id: str) -> Response:
    """`GET /review/{id}`."""
    session = current_session(p.site, request)
    if session is None:
        return to_login(request)
    record = p.site.readmodel.reviews.get(situation_id)
    if session.role not in REVIEWERS or record is None:
        return p.site.pages.message(
            404, N_("Review"), N_("No review for this situation."), session=session
        )
    voted = request.query.get("voted")
    if voted not in set(Decision):  # a notice names a decision, never the query's own text
        voted = None
    pages = p.site.pages
    said = pages.catalogues.words(voted or "", pages.language_of(session))
    notice = pages.gettext("Your vote (%(v)s) is recorded.", session, v=said) if voted else None
    return await review_page(p, session, record, notice=notice)


async def vote(p: PanelPages, request: Request, situation_id: str) -> Response:
    """`POST /review/{id}`: a member's vote from the page."""
    site = p.site
    session = current_session(site, request)
    if session is None:
        return to_login(request)
    record = site.readmodel.reviews.get(situation_id)
    form = await read_form(request)
    if record is None or session.role != "panel":
        return site.pages.message(
            403, N_("Review"), N_("Only panel members vote."), session=session
        )
    if not site.signer.check_form(form.text("csrf"), session.person, situation_id):
        return await review_page(p, session, record, 403, error="The form expired: vote again.")
    body: dict[str, Any] = {
        "decision": form.get("decision"),
        "version": whole(form.get("version")),
        "reason": form.get("reason", ""),
    }
    if body["decision"] == "amend":
        body["amendment"] = amendment(form)
    parsed = votes.parse_vote(body)
    if isinstance(parsed, Answer):
        errors = "; ".join(f"{e['loc']}: {e['msg']}" for e in parsed.body["errors"])
        return await review_page(p, session, record, 422, error=errors)
    answer = await votes.submit(p.ballot, situation_id, session.person, parsed, "web")
    if not answer.ok:
        return await review_page(p, session, record, answer.status, error=answer.problem)
    return redirect(f"/review/{situation_id}?voted={parsed.decision}")


def register(app: faust.App, pages: PanelPages) -> None:
    """Bind the panel's pages."""
    route(app, "/review", get=bind(queue, pages))
    route(app, "/review/{situation_id}", get=bind(show, pages), post=bind(vote, pages))
