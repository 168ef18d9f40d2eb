"""The signed links in emails: `/t/{token}`, a panel vote or a task action.

GET only shows what the link would do (a mail scanner that follows links votes and
acknowledges nothing); the person confirms with POST. A link names its person, so it
works without a session, and once its vote or action is taken it says so.
"""

from __future__ import annotations

import faust
from faust.web import Request, Response

from concord.access.links import LinkError, TaskLink, VoteLink
from concord.core.tasks import ALLOWED, PEOPLE
from concord.notifiers.blocks import labels
from concord.streams.reviews import ReviewRecord, VoteIn
from concord.streams.tasks import Task
from concord.web import votes
from concord.web.auth import Actor
from concord.web.body import read_form
from concord.web.i18n import N_
from concord.web.panel import PanelPages
from concord.web.session import role_of
from concord.web.site import Site, bind, route
from concord.web.tasks import past, submit

#: What a task link's confirmation button says.
TASK_LABELS = {"ack": "Acknowledge", "decline": "Decline", "done": "Done"}


def unusable(record: ReviewRecord, link: VoteLink) -> tuple[str, dict[str, object], str] | None:
    """Why a vote link cannot be used now (a catalogue entry, its values, and whether that
    is fine), or None."""
    done = next(
        (
            v
            for v in record.votes
            if (v.member, v.version, v.decision) == (link.member, link.version, link.decision)
        ),
        None,
    )
    if done is not None:
        text = N_(
            "You already voted %(decision)s on version %(version)s of this analysis. "
            "This link cannot be used again."
        )
        return text, {"decision": done.decision, "version": done.version}, "ok"
    if record.outcome != "pending":
        return N_("The review is already %(outcome)s."), {"outcome": record.outcome}, "err"
    if link.version != record.version:
        text = N_(
            "This link is for version %(version)s; the analysis is now at version "
            "%(current)s. Vote on the current version."
        )
        return text, {"version": link.version, "current": record.version}, "err"
    return None


def _lang(site: Site, link: VoteLink | TaskLink) -> str:
    """The language of the person the email was for."""
    person = link.member if isinstance(link, VoteLink) else link.person
    return site.pages.language_of_person(person)


def read_link(site: Site, token: str, request: Request) -> VoteLink | TaskLink | Response:
    """The link a token carries, or the page that says why it cannot be read (in the
    browser's language: a link that cannot be read names nobody)."""
    try:
        found = site.signer.read_any(token)
    except LinkError as exc:
        text = (
            N_("This link has expired. Open the review page or the task page instead.")
            if exc.expired
            else N_("This link is not valid.")
        )
        status = 410 if exc.expired else 400
        lang = site.language(request)
        return site.pages.message(
            status, N_("Vote link"), text, lang=lang, link="/review", link_text=N_("Review queue")
        )
    if not isinstance(found, VoteLink | TaskLink):
        return site.pages.message(
            400, N_("Vote link"), N_("This link is not valid."), lang=site.language(request)
        )
    return found


# -- vote links ---------------------------------------------------------------------------


def vote_record(site: Site, link: VoteLink) -> ReviewRecord | Response:
    """The review a vote link is for, or the page that says why it cannot be used."""
    record = site.readmodel.reviews.get(link.situation_id)
    if record is None:
        return site.pages.message(
            404, N_("Vote link"), N_("This review is not known (yet)."), lang=_lang(site, link)
        )
    why = unusable(record, link)
    if why is None:
        return record
    text, args, kind = why
    lang = _lang(site, link)
    for name in ("decision", "outcome"):  # codes, in the reader's words
        if name in args:
            args[name] = site.pages.catalogues.words(str(args[name]), lang)
    return site.pages.message(
        409,
        N_("Vote link"),
        text,
        lang=_lang(site, link),
        args=args,
        kind=kind,
        link=f"/review/{record.situation_id}",
        link_text=N_("Open the review"),
    )


def confirm_vote(
    p: PanelPages, link: VoteLink, record: ReviewRecord, status: int = 200, error: str | None = None
) -> Response:
    """The page a vote link shows before it votes (GET changes nothing)."""
    lang = p.site.pages.language_of_person(link.member)
    return p.site.pages.render(
        "vote_link.html",
        status,
        lang=lang,
        link=link,
        r=record,
        error=error,
        analysis=p.analysis(record, lang),
        labels=labels(p.site.pages.catalogues.message, lang),
    )


async def take_vote(p: PanelPages, link: VoteLink, record: ReviewRecord, reason: str) -> Response:
    """Take the vote a link names (its POST)."""
    site = p.site
    try:
        vote = VoteIn(decision=link.decision, version=link.version, reason=reason)
    except ValueError:
        return confirm_vote(p, link, record, 422, error=N_("A rejection needs a reason."))
    answer = await votes.submit(p.ballot, record.situation_id, link.member, vote, "email")
    if not answer.ok:
        error = str(answer.body.get("error", "The vote was not taken."))
        return site.pages.message(answer.status, N_("Vote link"), error, lang=_lang(site, link))
    return site.pages.message(
        202,
        N_("Vote recorded"),
        N_("Thank you: your vote (%(decision)s) on version %(version)s is recorded."),
        lang=_lang(site, link),
        args={"decision": link.decision, "version": link.version},
        kind="ok",
        link=f"/review/{record.situation_id}",
        link_text=N_("Open the review"),
    )


# -- task links ---------------------------------------------------------------------------


def link_task(site: Site, link: TaskLink) -> Task | Response:
    """The task of an email action link, or the page that explains why it cannot be used."""
    task = site.readmodel.tasks.get(link.task_id)
    if task is None:
        return site.pages.message(
            404, N_("Task"), N_("This task is not known."), lang=_lang(site, link)
        )
    if link.action not in PEOPLE or link.action not in ALLOWED[task.state]:
        text = N_("This link cannot be used any more: the task is %(state)s (assignee %(who)s).")
        return site.pages.message(
            409,
            N_("Task"),
            text,
            lang=_lang(site, link),
            args={
                "state": site.pages.catalogues.words(task.state.value, _lang(site, link)),
                "who": task.assignee,
            },
            kind="ok",
            link=f"/tasks/{task.id}",
            link_text=N_("Open the task"),
        )
    return task


def confirm_task(
    site: Site, link: TaskLink, task: Task, status: int = 200, error: str | None = None
) -> Response:
    """The page a task link shows before it acts (GET changes nothing)."""
    return site.pages.render(
        "task_link.html",
        status,
        lang=_lang(site, link),
        task=task,
        action=link.action,
        error=error,
        label=TASK_LABELS.get(link.action, link.action),
        text=task.text(site.pages.language_of_person(link.person)),
    )


async def take_action(site: Site, link: TaskLink, task: Task, reason: str | None) -> Response:
    """Take the task action a link names (its POST)."""
    role, agency = role_of(site.directory, link.person) or ("unknown", None)
    who = Actor(link.person, role, agency)
    answer = await submit(site, task.id, who, link.action, reason, "email")
    if not answer.ok:
        return confirm_task(site, link, task, answer.status, answer.problem)
    return site.pages.message(
        202,
        N_("Recorded"),
        N_("Thank you: the task is %(state)s."),
        lang=_lang(site, link),
        args={"state": site.pages.catalogues.words(past(link.action), _lang(site, link))},
        kind="ok",
        link=f"/tasks/{task.id}",
        link_text=N_("Open the task"),
    )


# -- the views ----------------------------------------------------------------------------


async def show(p: PanelPages, request: Request, token: str) -> Response:
    """`GET /t/{token}`: what the link would do, and a button to do it."""
    link = read_link(p.site, token, request)
    if isinstance(link, TaskLink):
        task = link_task(p.site, link)
        return confirm_task(p.site, link, task) if isinstance(task, Task) else task
    if isinstance(link, VoteLink):
        record = vote_record(p.site, link)
        return confirm_vote(p, link, record) if isinstance(record, ReviewRecord) else record
    return link


async def confirm(p: PanelPages, request: Request, token: str) -> Response:
    """`POST /t/{token}`: the vote or the action is taken."""
    link = read_link(p.site, token, request)
    if isinstance(link, TaskLink):
        task = link_task(p.site, link)
        if not isinstance(task, Task):
            return task
        form = await read_form(request)
        return await take_action(p.site, link, task, form.text("reason") or None)
    if isinstance(link, VoteLink):
        record = vote_record(p.site, link)
        if not isinstance(record, ReviewRecord):
            return record
        form = await read_form(request)
        return await take_vote(p, link, record, form.text("reason"))
    return link


def register(app: faust.App, pages: PanelPages) -> None:
    """Bind `/t/{token}`."""
    route(app, "/t/{token}", get=bind(show, pages), post=bind(confirm, pages))
