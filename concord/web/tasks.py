"""Liaisons act on tasks: acknowledge, decline (with a reason), done — whatever the channel.

`submit` asks the task rules (`concord.core.tasks.refusal`) against the read model, so
the person gets a clear answer at once (404, 409 for a move the state machine refuses,
422 for a decline without a reason); the track stage asks the same rules again against
its table, which is the truth. Also here: the API (`POST /api/tasks/{id}/ack|decline|
done|reassign`) and the task page (`/tasks/{id}`). Email action links are in
`concord.web.task_links`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import faust
from faust.web import Request, Response
from pydantic import ValidationError

from concord.common.types import utcnow
from concord.core.briefing import brief
from concord.core.disclosure import NotDisclosed
from concord.core.tasks import OPEN, PEOPLE, TARGET, is_mine, liaison_actions, may_act, refusal
from concord.streams.tasks import Task, TaskActionIn, TaskEvent, Via
from concord.web import texts
from concord.web.answer import Answer
from concord.web.auth import Actor, require
from concord.web.body import read_form, read_json
from concord.web.i18n import N_
from concord.web.persons import Disclosed, answered_by, persons_for
from concord.web.session import current_session, page_for
from concord.web.site import Site, bind, redirect, route, to_login

#: The task API's largest body.
MAX_BODY = 16_000


#: What `?done=` may say after an action, as message ids: a notice is one of these,
#: never the query's own text.
NOTICES = {"acknowledged": N_("acknowledged"), "declined": N_("declined"), "done": N_("done")}


def notice_of(request: Request) -> str | None:
    """The notice `?done=` asks for, if it is one of `NOTICES`."""
    return NOTICES.get(request.query.get("done", ""))


def past(action: str) -> str:
    """`ack` -> `acknowledged`: what a person reads once it is done."""
    return TARGET[action].value if action in TARGET else action


async def submit(
    site: Site, task_id: str, who: Actor, action: str, reason: str | None, via: Via
) -> Answer:
    """Check the action and put it on `concord.task-events` (202 once the broker has it)."""
    task = site.readmodel.tasks.get(task_id)
    # Another agency's task is answered like a task that does not exist: the answer says
    # nothing about tasks the caller may not see.
    if task is None or not may_act(task, *who):
        return Answer(404, {"error": "no such task"})
    if action not in PEOPLE:
        return Answer(404, {"error": "no such action: ack, decline or done"})
    refused = refusal(task, action, reason=reason)
    if refused is not None:
        return Answer.refused(refused, "action", state=task.state.value)
    try:
        event = TaskEvent(task_id=task_id, action=action, actor=who.person, via=via, reason=reason)
    except ValidationError as exc:
        return Answer.invalid("action", exc)
    await site.flow.acked(site.flow.topics.task_events.send(key=task_id, value=event))
    return Answer(202, {"accepted": True, "task_id": task_id, "action": action})


async def reassign(
    site: Site, task_id: str, who: Actor, assignee: str | None, reason: str | None
) -> Answer:
    """A coordinator gives a task to another liaison (of any agency)."""
    task = site.readmodel.tasks.get(task_id)
    if task is None or not may_act(task, *who):
        return Answer(404, {"error": "no such task"})
    if who.role != "coordinator":
        return Answer(403, {"error": "only coordinators reassign tasks"})
    if not assignee or site.directory.liaison(assignee) is None:
        return Answer(
            422,
            {"error": "invalid action", "errors": [{"loc": "assignee", "msg": "unknown liaison"}]},
        )
    refused = refusal(task, "reassign", assignee=assignee)
    if refused is not None:
        return Answer.refused(refused, "action", state=task.state.value)
    event = TaskEvent(
        task_id=task_id,
        action="reassign",
        actor=who.person,
        via="api",
        assignee=assignee,
        reason=reason,
    )
    await site.flow.acked(site.flow.topics.task_events.send(key=task_id, value=event))
    return Answer(202, {"accepted": True, "task_id": task_id, "action": "reassign"})


async def cancel_open_tasks(site: Site, situation_id: str, actor: str) -> int:
    """A closed situation: cancel its tasks that are still open (the track stage decides)."""
    count = 0
    for task in site.readmodel.tasks_of(situation_id):
        if refusal(task, "cancel") is None:
            event = TaskEvent(
                task_id=task.id,
                action="cancel",
                actor=actor,
                via="api",
                reason=f"situation {situation_id} closed",
            )
            await site.flow.topics.task_events.send(key=task.id, value=event)
            count += 1
    return count


async def api_action(site: Site, request: Request, task_id: str, action: str) -> Response:
    """`POST /api/tasks/{id}/ack|decline|done|reassign` (liaisons, coordinators)."""
    token = require(site.readmodel, request, {"liaison", "coordinator"})
    body = await read_json(request, MAX_BODY, empty={})
    try:
        given = TaskActionIn.model_validate(body)
    except ValidationError as exc:
        return Answer.invalid("action", exc).response()
    who = Actor.of_token(token)
    if action == "reassign":
        answer = await reassign(site, task_id, who, given.assignee, given.reason)
    else:
        answer = await submit(site, task_id, who, action, given.reason, "api")
    return answer.response()


async def task_page(
    site: Site,
    session: Any,
    task: Task,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    """The task, what the person may do with it, and the people it concerns (if they may
    see them)."""
    who = Actor.of_session(session)
    try:
        seen: Disclosed | None = await persons_for(site, task, who, "web")
        withheld_because = None
    except NotDisclosed as exc:  # not NotYours: `mine` let only the task's people in
        seen, withheld_because = None, str(exc)
    situation = site.readmodel.situations.get(task.situation_id)
    wanted = set(answered_by(site.readmodel, task))
    refs = [r for r in situation.signals if r.id in wanted] if situation else []
    # What the reports say goes with the people: shown while the task is in hands.
    said = {} if seen is None else await texts.read(site, refs, who.person, task.id, "web")
    return site.pages.render(
        "task.html",
        status,
        session=session,
        task=task,
        b=brief(task, situation, site.readmodel.tasks),
        error=error,
        notice=notice,
        allowed=liaison_actions(task),
        text=task.text(site.pages.language_of(session)),
        csrf=site.signer.form_token(session.person, task.id),
        people=seen.signals if seen else [],
        sharing=seen.sharing.value if seen else None,
        withheld_because=withheld_because,
        refs=refs if seen else [],
        said=said,
    )


def mine(site: Site, session: Any, task_id: str) -> Task | Response:
    """The task, or the 404 page for anyone who may not act on it."""
    task = site.readmodel.tasks.get(task_id)
    if task is None or not may_act(task, *Actor.of_session(session)):
        return site.pages.message(404, N_("Task"), N_("No such task for you."), session=session)
    return task


async def show(site: Site, request: Request, task_id: str) -> Response:
    """`GET /tasks/{id}`."""
    session = current_session(site, request)
    if session is None:
        return to_login(request)
    task = mine(site, session, task_id)
    if not isinstance(task, Task):
        return task
    return await task_page(site, session, task, notice=notice_of(request))


async def act(site: Site, request: Request, task_id: str) -> Response:
    """`POST /tasks/{id}`: the page's buttons."""
    session = current_session(site, request)
    if session is None:
        return to_login(request)
    # Checked before anything is rendered: the page shows the task and its people.
    task = mine(site, session, task_id)
    if not isinstance(task, Task):
        return task
    form = await read_form(request)
    if not site.signer.check_form(form.text("csrf"), session.person, task_id):
        return await task_page(site, session, task, 403, error="The form expired: try again.")
    action = form.text("action")
    answer = await submit(
        site, task_id, Actor.of_session(session), action, form.text("reason") or None, "web"
    )
    from_list = form.text("from") == "list"
    if not answer.ok:
        if from_list:
            return my_tasks_page(site, session, answer.status, error=answer.problem)
        return await task_page(site, session, task, answer.status, error=answer.problem)
    if from_list:
        return redirect(f"/tasks?done={past(action)}&task={task_id}")
    return redirect(f"/tasks/{task_id}?done={past(action)}")


def my_tasks(site: Site, who: Actor) -> list[Task]:
    """A person's open tasks (`core.tasks.is_mine`), the soonest due first."""
    found = [
        t
        for t in site.readmodel.tasks.values()
        if t.state in OPEN and not t.awaiting and is_mine(t, *who)
    ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda t: (t.due or far, t.created_at, t.id))


def my_tasks_page(
    site: Site, session: Any, status: int = 200, error: str | None = None, notice: str | None = None
) -> Response:
    """The "my tasks" page: the person's open tasks, soonest due first."""
    who = session if isinstance(session, Actor) else Actor.of_session(session)
    items = my_tasks(site, who)
    return site.pages.render(
        "my_tasks.html",
        status,
        session=session,
        items=[
            (
                t,
                liaison_actions(t),
                site.signer.form_token(who.person, t.id),
                brief(
                    t, site.readmodel.situations.get(t.situation_id), site.readmodel.tasks
                ).waits_for,
            )
            for t in items
        ],
        error=error,
        notice=notice,
        now=utcnow(),
        situations=site.readmodel.situations,
    )


async def list_mine(site: Site, request: Request) -> Response:
    """`GET /tasks`: my tasks, with Acknowledge / Decline (with a reason) / Done."""
    who = page_for(site, request, {"liaison", "coordinator"})
    if not isinstance(who, Actor):
        return who
    return my_tasks_page(site, who, notice=notice_of(request))


def register(app: faust.App, site: Site) -> None:
    """Bind the task API and the task page."""
    route(
        app,
        "/api/tasks/{task_id}/{action:ack|decline|done|reassign}",
        post=bind(api_action, site),
    )
    route(app, "/tasks", get=bind(list_mine, site))
    route(app, "/tasks/{task_id}", get=bind(show, site), post=bind(act, site))
