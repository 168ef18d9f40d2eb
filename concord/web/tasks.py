"""Liaisons act on tasks: acknowledge, decline (with a reason), done — whatever the channel.

`submit` checks against the read model so the person gets a clear answer at once (404,
403, 409 for a move the state machine refuses, 422 for a decline without a reason);
the track stage checks again against its table, which is the truth. Also here: the API
(`POST /api/tasks/{id}/ack|decline|done`) and the task page (`/tasks/{id}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View
from pydantic import ValidationError

from concord.core.disclosure import NotDisclosed
from concord.core.tasks import ALLOWED, may_act
from concord.links import TaskLink
from concord.streams.tasks import PEOPLE_ACTIONS, Channel, Task, TaskActionIn, TaskEvent
from concord.web.auth import authenticate
from concord.web.body import read_form, read_json
from concord.web.persons import Disclosed, persons_for
from concord.web.readmodel import ReadModel
from concord.web.session import (
    current_session,
    language_of,
    page_renderer,
    redirect,
    role_of,
    to_login,
)
from concord.web.votes import Answer, errors_of

if TYPE_CHECKING:
    from concord.app import Concord

PAST = {"ack": "acknowledged", "decline": "declined", "done": "done"}


async def submit(
    c: Concord,
    view: ReadModel,
    task_id: str,
    who: tuple[str, str, str | None],
    action: str,
    reason: str | None,
    channel: Channel,
) -> Answer:
    """Check the action and put it on `concord.task-events` (202 once the broker has it)."""
    person, role, agency = who
    task = view.tasks.get(task_id)
    # Another agency's task is answered like a task that does not exist: the answer says
    # nothing about tasks the caller may not see.
    if task is None or not may_act(task, person, role, agency):
        return Answer(404, {"error": "no such task"})
    if action not in PEOPLE_ACTIONS:
        return Answer(404, {"error": "no such action: ack, decline or done"})
    if task.state == "pending":
        why = (
            "it waits for the expert panel"
            if task.awaiting
            else f"it waits for {', '.join(task.depends_on)}"
            if task.depends_on
            else "it is on its way to its assignee: try again in a moment"
        )
        return Answer(409, {"error": f"the task is pending: {why}", "state": "pending"})
    if action not in ALLOWED[task.state]:
        allowed = ", ".join(sorted(a for a in ALLOWED[task.state] if a in PEOPLE_ACTIONS))
        return Answer(
            409,
            {
                "error": f"the task is {task.state.value}: it cannot be {PAST[action]}"
                + (f" (possible: {allowed})" if allowed else ""),
                "state": task.state.value,
            },
        )
    if action == "decline" and not (reason or "").strip():
        return Answer(
            422,
            {
                "error": "invalid action",
                "errors": [{"loc": "reason", "msg": "a decline needs a reason"}],
            },
        )
    try:
        event = TaskEvent(
            task_id=task_id, action=action, actor=person, channel=channel, reason=reason
        )
    except ValidationError as exc:
        return Answer(422, {"error": "invalid action", "errors": errors_of(exc)})
    fut = await c.topics.task_events.send(key=task_id, value=event)
    await fut
    return Answer(202, {"accepted": True, "task_id": task_id, "action": action})


async def reassign(
    c: Concord,
    view: ReadModel,
    task_id: str,
    who: tuple[str, str, str | None],
    assignee: object,
    reason: str | None,
) -> Answer:
    """A coordinator gives a task to another liaison (of any agency)."""
    person, role, agency = who
    task = view.tasks.get(task_id)
    if task is None or not may_act(task, person, role, agency):
        return Answer(404, {"error": "no such task"})
    if role != "coordinator":
        return Answer(403, {"error": "only coordinators reassign tasks"})
    if not isinstance(assignee, str) or c.directory.liaison(assignee) is None:
        return Answer(
            422,
            {"error": "invalid action", "errors": [{"loc": "assignee", "msg": "unknown liaison"}]},
        )
    if "reassign" not in ALLOWED[task.state]:
        return Answer(409, {"error": f"the task is {task.state.value}: it cannot be reassigned"})
    event = TaskEvent(
        task_id=task_id,
        action="reassign",
        actor=person,
        channel="api",
        assignee=assignee,
        reason=reason,
    )
    fut = await c.topics.task_events.send(key=task_id, value=event)
    await fut
    return Answer(202, {"accepted": True, "task_id": task_id, "action": "reassign"})


async def cancel_open_tasks(c: Concord, view: ReadModel, situation_id: str, actor: str) -> int:
    """A closed situation: cancel its tasks that are still open (the track stage decides)."""
    count = 0
    for task in view.tasks_of(situation_id):
        if "cancel" in ALLOWED[task.state]:
            event = TaskEvent(
                task_id=task.id,
                action="cancel",
                actor=actor,
                channel="api",
                reason=f"situation {situation_id} closed",
            )
            await c.topics.task_events.send(key=task.id, value=event)
            count += 1
    return count


def register(c: Concord, view: ReadModel) -> None:
    render = page_renderer(c)

    @c.app.page("/api/tasks/{task_id}/{action}")
    class TaskAction(View):
        async def post(self, request: Request, task_id: str, action: str) -> Response:
            token = authenticate(view, request.headers.get("Authorization"))
            if token is None:
                return self.json({"error": "a valid API token is required"}, status=401)
            if token.role not in ("liaison", "coordinator"):
                return self.json({"error": f"role {token.role!r} may not do this"}, status=403)
            body = await read_json(request, 16_000, empty={})
            try:
                given = TaskActionIn.model_validate(body)
            except ValidationError as exc:
                return self.json({"error": "invalid action", "errors": errors_of(exc)}, status=422)
            who = (token.name, token.role, token.agency)
            if action == "reassign":
                result = await reassign(c, view, task_id, who, given.assignee, given.reason)
            else:
                result = await submit(c, view, task_id, who, action, given.reason, "api")
            return self.json(result.body, status=result.status)

    @c.app.page("/tasks/{task_id}")
    class TaskPage(View):
        async def _page(
            self,
            session: Any,
            task: Task,
            status: int = 200,
            error: str | None = None,
            notice: str | None = None,
        ) -> Response:
            allowed = [a for a in PEOPLE_ACTIONS if a in ALLOWED[task.state]]
            who = (session.person, session.role, session.agency)
            try:
                seen: Disclosed | None = await persons_for(c, view, task, who, "web")
                withheld_because = None
            except NotDisclosed as exc:  # not NotYours: `_mine` let only the task's people in
                seen, withheld_because = None, str(exc)
            return render(
                "task.html",
                status,
                session=session,
                task=task,
                error=error,
                notice=notice,
                allowed=allowed,
                text=task.text(language_of(c, session.person)),
                csrf=c.signer.form_token(session.person, task.id),
                people=seen.signals if seen else [],
                sharing=seen.sharing.value if seen else None,
                withheld_because=withheld_because,
            )

        def _mine(self, session: Any, task_id: str) -> Task | Response:
            """The task, or the 404 page for anyone who may not act on it."""
            task = view.tasks.get(task_id)
            if task is None or not may_act(task, session.person, session.role, session.agency):
                return render(
                    "message.html", 404, session=session, title="Task", text="No such task for you."
                )
            return task

        async def get(self, request: Request, task_id: str) -> Response:
            session = current_session(c, view, request)
            if session is None:
                return to_login(self, request)
            task = self._mine(session, task_id)
            if not isinstance(task, Task):
                return task
            done = request.query.get("done")
            return await self._page(session, task, notice=f"Recorded: {done}." if done else None)

        async def post(self, request: Request, task_id: str) -> Response:
            session = current_session(c, view, request)
            if session is None:
                return to_login(self, request)
            # Checked before anything is rendered: the page shows the task and its people.
            task = self._mine(session, task_id)
            if not isinstance(task, Task):
                return task
            form = await read_form(request)
            if not c.signer.check_form(str(form.get("csrf", "")), session.person, task_id):
                return await self._page(session, task, 403, error="The form expired: try again.")
            action = str(form.get("action", ""))
            who = (session.person, session.role, session.agency)
            reason = str(form.get("reason", "")) or None
            result = await submit(c, view, task_id, who, action, reason, "web")
            if not result.ok:
                detail = result.body.get("errors") or [{"msg": result.body.get("error", "")}]
                return await self._page(
                    session, task, result.status, error="; ".join(e["msg"] for e in detail)
                )
            return redirect(self, f"/tasks/{task_id}?done={PAST[action]}")


LABELS = {"ack": "Acknowledge", "decline": "Decline", "done": "Done"}


def link_page(
    c: Concord, view: ReadModel, render: Any, link: TaskLink
) -> tuple[Task | None, Response | None]:
    """The task of an email action link, or the page that explains why it cannot be used."""
    task = view.tasks.get(link.task_id)
    if task is None:
        return None, render("message.html", 404, title="Task", text="This task is not known.")
    if link.action not in ALLOWED[task.state] or link.action not in PEOPLE_ACTIONS:
        text = (
            f"This link cannot be used any more: the task is {task.state.value} "
            f"(assignee {task.assignee})."
        )
        return task, render(
            "message.html",
            409,
            title="Task",
            text=text,
            kind="ok",
            link=f"/tasks/{task.id}",
            link_text="Open the task",
        )
    return task, None


def confirm_page(
    c: Concord, render: Any, link: TaskLink, task: Task, status: int = 200, error: str | None = None
) -> Response:
    return render(
        "task_link.html",
        status,
        task=task,
        action=link.action,
        error=error,
        label=LABELS.get(link.action, link.action),
        text=task.text(language_of(c, link.person)),
    )


async def link_post(
    c: Concord, view: ReadModel, render: Any, link: TaskLink, form: Any
) -> Response:
    task, page = link_page(c, view, render, link)
    if page is not None or task is None:
        return page or render("message.html", 404, title="Task", text="Unknown task.")
    role, agency = role_of(c, link.person) or ("unknown", None)
    who = (link.person, role, agency)
    reason = str(form.get("reason", "")) or None
    result = await submit(c, view, task.id, who, link.action, reason, "email")
    if not result.ok:
        detail = result.body.get("errors") or [{"msg": result.body.get("error", "")}]
        return confirm_page(
            c, render, link, task, result.status, "; ".join(e["msg"] for e in detail)
        )
    return render(
        "message.html",
        202,
        title="Recorded",
        kind="ok",
        text=f"Thank you: the task is {PAST[link.action]}.",
        link=f"/tasks/{task.id}",
        link_text="Open the task",
    )
