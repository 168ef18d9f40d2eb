"""Personal data of a task's reports, opened for one signed-in viewer and audited.

The only place where sealed `persons` are opened for a person. Slack and email never
carry them (DESIGN.md): they link to the task page, which calls `persons_for`. The
rules (task state, sharing level, consent) are the pure `concord.core.disclosure`;
here: who the viewer is, which signals the task stems from, unsealing, the audit entry.
`GET /api/tasks/{id}/persons` gives the same view to an agency's own systems.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from faust.web import Request, Response, View
from pydantic import TypeAdapter, ValidationError

from concord.core.disclosure import (
    NotDisclosed,
    NotYours,
    SignalView,
    check_access,
    disclose,
    sharing_of,
)
from concord.directory import Sharing
from concord.keys import SealError
from concord.streams.signals import Person
from concord.streams.tasks import Task
from concord.web.auth import authenticate
from concord.web.readmodel import ReadModel
from concord.web.votes import Answer

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

_PERSONS = TypeAdapter(list[Person])


def _open(c: Concord, sealed: str) -> tuple[list[Person], str]:
    secret = json.loads(c.sealer.open(sealed))
    return _PERSONS.validate_python(secret.get("persons", [])), str(secret.get("summary", ""))


@dataclass(frozen=True)
class Disclosed:
    """What one viewer may see of a task's reports, and under which sharing level."""

    sharing: Sharing
    signals: list[SignalView]


async def persons_for(
    c: Concord, view: ReadModel, task: Task, who: tuple[str, str, str | None], channel: str
) -> Disclosed:
    """The task's reports cut to what `who` (person, role, agency) may see; audited.

    Raises NotYours when `who` may not act on the task, NotDisclosed when the task is not
    in someone's hands."""
    person, role, agency = who
    check_access(task, person, role, agency)
    level = sharing_of(c.directory, person, role, agency)
    views: list[SignalView] = []
    for signal_id in answered_by(view, task):
        sealed = view.sealed.get(signal_id)
        if sealed is None:
            continue
        try:
            persons, summary = _open(c, sealed)
        except (SealError, ValueError, ValidationError):
            # A key rotated without re-sealing, or a tampered record: say so, show nothing.
            log.error("persons of signal %s cannot be opened with this data key", signal_id)
            continue
        views.append(disclose(signal_id, persons, summary, level))
    shown = sum(v.names_shown for v in views)
    if views and level is not Sharing.none:
        # Who looked at whose data is itself a record the city must keep.
        await c.audit(
            person,
            "persons.viewed",
            task.id,
            channel=channel,
            sharing=level.value,
            signals=",".join(v.signal_id for v in views),
            names_shown=str(shown),
        )
    return Disclosed(level, views)


def answered_by(view: ReadModel, task: Task) -> list[str]:
    """The signals whose persons a task may show: those its playbook fired on. A report
    merged into the situation later, or about something else, is not the task's to show.
    (Tasks planned before triggers were recorded show the situation's signals.)"""
    if task.signals:
        return list(task.signals)
    situation = view.situations.get(task.situation_id)
    return [r.id for r in situation.signals] if situation else []


def as_json(views: list[SignalView]) -> list[dict[str, object]]:
    """The API's form of `persons_for`'s answer."""
    return [
        {
            "signal_id": v.signal_id,
            "persons": [asdict(p) for p in v.persons],
            "withheld": v.withheld,
            "summary": v.summary,
        }
        for v in views
    ]


def register(c: Concord, view: ReadModel) -> None:
    """`GET /api/tasks/{id}/persons` (before the tasks' `/{action}` route, which it shadows)."""

    @c.app.page("/api/tasks/{task_id}/persons")
    class TaskPersons(View):
        async def get(self, request: Request, task_id: str) -> Response:
            token = authenticate(view, request.headers.get("Authorization"))
            if token is None:
                return self.json({"error": "a valid API token is required"}, status=401)
            task = view.tasks.get(task_id)
            if task is None:
                return self.json({"error": "no such task for you"}, status=404)
            answer = await lookup(c, view, task, (token.name, token.role, token.agency))
            no_store = {"Cache-Control": "no-store"}
            return self.json(answer.body, status=answer.status, headers=no_store)


async def lookup(
    c: Concord, view: ReadModel, task: Task, who: tuple[str, str, str | None]
) -> Answer:
    """The API answer: 200 with the views; 404 when the task is not the viewer's, 409 when
    its state withholds them."""
    try:
        seen = await persons_for(c, view, task, who, "api")
    except NotYours as exc:
        return Answer(404, {"error": str(exc)})
    except NotDisclosed as exc:
        return Answer(409, {"error": str(exc)})
    body = {"task_id": task.id, "sharing": seen.sharing.value, "signals": as_json(seen.signals)}
    return Answer(200, body)
