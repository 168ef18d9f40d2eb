"""The panel's web pages: `/review` (queue), `/review/{id}` (analysis + vote), `/t/{token}`.

`/review` pages need a session (see `concord.web.session`); panel members vote there,
coordinators read. `/t/{token}` is the signed email link: GET only shows what the
link would do (a mail scanner that follows links votes nothing); the member confirms
with POST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View

from concord.core.analysis import draft
from concord.links import LinkError, TaskLink, VoteLink
from concord.notifiers.render import LABELS
from concord.streams.reviews import ReviewRecord, VoteIn
from concord.web import tasks, votes
from concord.web.body import read_form
from concord.web.readmodel import ReadModel
from concord.web.session import (
    current_session,
    language_of,
    page_renderer,
    redirect,
    to_login,
)

if TYPE_CHECKING:
    from concord.app import Concord

REVIEWERS = {"panel", "coordinator"}


def _amendment(form: Any) -> dict[str, Any] | None:
    """The amendment fields of the review form, as the API takes them."""
    out: dict[str, Any] = {}
    if form.get("severity"):
        out["severity"] = form.get("severity")
    drops = form.getall("drop", [])
    if drops:
        out["drop_tasks"] = list(drops)
    if form.get("add_playbook"):
        out["add_playbooks"] = [form.get("add_playbook")]
    if str(form.get("note", "")).strip():
        out["note"] = form.get("note")
    return out or None


def _unusable(record: ReviewRecord, link: VoteLink) -> tuple[str, str] | None:
    """Why a vote link cannot be used now (the text, and whether that is fine), or None."""
    done = next(
        (
            v
            for v in record.votes
            if (v.member, v.version, v.decision) == (link.member, link.version, link.decision)
        ),
        None,
    )
    if done is not None:
        return (
            f"You already voted {done.decision} on version {done.version} "
            "of this analysis. This link cannot be used again.",
            "ok",
        )
    if record.outcome != "pending":
        return f"The review is already {record.outcome}.", "err"
    if link.version != record.version:
        return (
            f"This link is for version {link.version}; the analysis is now at "
            f"version {record.version}. Vote on the current version.",
            "err",
        )
    return None


def register(c: Concord, view: ReadModel) -> None:
    render = page_renderer(c)
    areas = {a.code: a.name for a in c.directory.areas}

    def analysis(record: ReviewRecord, language: str) -> str:
        d = draft(record.situation, areas.get(record.area, record.area), record.current)
        return c.renderer.analysis_text(d, language)

    @c.app.page("/review")
    class Queue(View):
        async def get(self, request: Request) -> Response:
            session = current_session(c, view, request)
            if session is None:
                return to_login(self, request)
            if session.role not in REVIEWERS:
                return render(
                    "message.html",
                    403,
                    session=session,
                    title="Review queue",
                    text=(
                        "Only panel members and coordinators see the review queue. "
                        "Your tasks reach you by Slack or email; each links to its own page."
                    ),
                )
            items = sorted(view.reviews.values(), key=lambda r: r.opened_at, reverse=True)
            mine = {
                r.situation_id: f"{v.decision} (v{v.version})"
                for r in items
                for v in r.votes
                if v.member == session.person
            }
            return render(
                "review_queue.html",
                session=session,
                pending=[r for r in items if r.outcome == "pending"],
                decided=[r for r in items if r.outcome != "pending"][:50],
                areas=areas,
                mine=mine,
            )

    @c.app.page("/review/{situation_id}")
    class ReviewPage(View):
        def _page(
            self,
            session: Any,
            record: ReviewRecord,
            status: int = 200,
            notice: str | None = None,
            error: str | None = None,
        ) -> Response:
            mine = next((v for v in reversed(record.votes) if v.member == session.person), None)
            can_vote = (
                session.role == "panel"
                and record.outcome == "pending"
                and not (mine is not None and mine.decision == "conflict")
            )
            return render(
                "review.html",
                status,
                session=session,
                r=record,
                analysis=analysis(record, language_of(c, session.person)),
                can_vote=can_vote,
                mine=mine,
                csrf=c.signer.form_token(session.person, record.situation_id),
                playbooks=sorted(c.playbooks.matcher.by_id),
                notice=notice,
                error=error,
            )

        async def get(self, request: Request, situation_id: str) -> Response:
            session = current_session(c, view, request)
            if session is None:
                return to_login(self, request)
            record = view.reviews.get(situation_id)
            if session.role not in REVIEWERS or record is None:
                return render(
                    "message.html",
                    404,
                    session=session,
                    title="Review",
                    text="No review for this situation.",
                )
            voted = request.query.get("voted")
            notice = f"Your vote ({voted}) is recorded." if voted else None
            return self._page(session, record, notice=notice)

        async def post(self, request: Request, situation_id: str) -> Response:
            session = current_session(c, view, request)
            if session is None:
                return to_login(self, request)
            record = view.reviews.get(situation_id)
            form = await read_form(request)
            if record is None or session.role != "panel":
                return render(
                    "message.html",
                    403,
                    session=session,
                    title="Review",
                    text="Only panel members vote.",
                )
            if not c.signer.check_form(str(form.get("csrf", "")), session.person, situation_id):
                return self._page(session, record, 403, error="The form expired: vote again.")
            body: dict[str, Any] = {
                "decision": form.get("decision"),
                "version": form.get("version"),
                "reason": form.get("reason", ""),
            }
            if body["decision"] == "amend":
                body["amendment"] = _amendment(form)
            parsed = votes.parse_vote(body)
            if isinstance(parsed, votes.Answer):
                errors = "; ".join(f"{e['loc']}: {e['msg']}" for e in parsed.body["errors"])
                return self._page(session, record, 422, error=errors)
            result = await votes.submit(c, view, situation_id, session.person, parsed, "web")
            if not result.ok:
                detail = result.body.get("errors") or [{"msg": result.body.get("error", "")}]
                return self._page(
                    session, record, result.status, error="; ".join(e["msg"] for e in detail)
                )
            return redirect(self, f"/review/{situation_id}?voted={parsed.decision}")

    @c.app.page("/t/{token}")
    class VoteLinkPage(View):
        def _read(self, token: str) -> tuple[Any, ReviewRecord | None, Response | None]:
            try:
                found = c.signer.read_any(token)
                if not isinstance(found, VoteLink):
                    raise LinkError("this link is not a vote link")
                link = found
            except LinkError as exc:
                text = (
                    "This link has expired. Open the review page or the task page instead."
                    if exc.expired
                    else "This link is not valid."
                )
                page = render(
                    "message.html",
                    410 if exc.expired else 400,
                    title="Vote link",
                    text=text,
                    link="/review",
                    link_text="Review queue",
                )
                return None, None, page
            record = view.reviews.get(link.situation_id)
            if record is None:
                page = render(
                    "message.html", 404, title="Vote link", text="This review is not known (yet)."
                )
                return link, None, page
            why = _unusable(record, link)
            if why is None:
                return link, record, None
            text, kind = why
            page = render(
                "message.html",
                409,
                title="Vote link",
                text=text,
                kind=kind,
                link=f"/review/{record.situation_id}",
                link_text="Open the review",
            )
            return link, record, page

        def _confirm(
            self, link: Any, record: ReviewRecord, status: int = 200, error: str | None = None
        ) -> Response:
            lang = language_of(c, link.member)
            return render(
                "vote_link.html",
                status,
                link=link,
                r=record,
                error=error,
                analysis=analysis(record, lang),
                labels=LABELS.get(lang, LABELS["en"]),
            )

        async def get(self, request: Request, token: str) -> Response:
            found = self._task_link(token)
            if found is not None:
                task, page = tasks.link_page(c, view, render, found)
                if page is not None or task is None:
                    return page or render("message.html", 404, title="Task", text="Unknown.")
                return tasks.confirm_page(c, render, found, task)
            link, record, page = self._read(token)
            if page is not None:
                return page
            assert record is not None
            return self._confirm(link, record)

        def _task_link(self, token: str) -> TaskLink | None:
            try:
                link = c.signer.read_any(token)
            except LinkError:
                return None  # `_read` explains it
            return link if isinstance(link, TaskLink) else None

        async def post(self, request: Request, token: str) -> Response:
            found = self._task_link(token)
            if found is not None:
                form = await read_form(request)
                return await tasks.link_post(c, view, render, found, form)
            link, record, page = self._read(token)
            if page is not None:
                return page
            assert record is not None
            form = await read_form(request)
            try:
                vote = VoteIn(
                    decision=link.decision, version=link.version, reason=str(form.get("reason", ""))
                )
            except ValueError:
                return self._confirm(link, record, 422, error="A rejection needs a reason.")
            result = await votes.submit(c, view, record.situation_id, link.member, vote, "email")
            if not result.ok:
                return render(
                    "message.html",
                    result.status,
                    title="Vote link",
                    text=str(result.body.get("error", "The vote was not taken.")),
                )
            return render(
                "message.html",
                202,
                title="Vote recorded",
                kind="ok",
                text=f"Thank you: your vote ({link.decision}) on version "
                f"{link.version} is recorded.",
                link=f"/review/{record.situation_id}",
                link_text="Open the review",
            )
