"""Personal data of a task's reports, opened for one signed-in viewer and audited.

The only place where sealed `persons` are opened for a person. Slack and email never
carry them: they link to the task page, which calls `persons_for`. The
rules (task state, sharing level, consent) are the pure `concord.core.disclosure`;
here: who the viewer is, which signals the task stems from, unsealing, the audit entry.
`GET /api/tasks/{id}/persons` gives the same view to an agency's own systems.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import faust
from faust.web import Request, Response
from pydantic import TypeAdapter, ValidationError

from concord.config.directory import Sharing
from concord.core.disclosure import (
    NotDisclosed,
    NotYours,
    SignalView,
    check_access,
    disclose,
    sharing_of,
)
from concord.privacy.keys import Erased, SealError
from concord.streams.signals import Online, Person
from concord.streams.tasks import Task
from concord.web.answer import Answer
from concord.web.auth import Actor, authenticate
from concord.web.readmodel import ReadModel
from concord.web.site import Site, bind, error, route

log = logging.getLogger(__name__)

_PERSONS = TypeAdapter(list[Person])


@dataclass(frozen=True)
class Opened:
    """What one signal's sealed value holds."""

    persons: list[Person]
    summary: str
    online: Online | None


def open_secret(site: Site, sealed: str) -> Opened:
    """Open a signal's sealed value (raises Erased, SealError, ValueError, ValidationError)."""
    secret = json.loads(site.flow.sealer.open(sealed, site.readmodel.keys))
    online = secret.get("online")
    return Opened(
        _PERSONS.validate_python(secret.get("persons", [])),
        str(secret.get("summary", "")),
        Online.model_validate(online) if online else None,
    )


@dataclass(frozen=True)
class Disclosed:
    """What one viewer may see of a task's reports, and under which sharing level."""

    sharing: Sharing
    signals: list[SignalView]


async def persons_for(site: Site, task: Task, who: Actor, via: str) -> Disclosed:
    """The task's reports cut to what `who` (person, role, agency) may see; audited.

    Raises NotYours when `who` may not act on the task, NotDisclosed when the task is not
    in someone's hands."""
    person, role, agency = who
    check_access(task, person, role, agency)
    level = sharing_of(site.directory, person, role, agency)
    views: list[SignalView] = []
    for signal_id in answered_by(site.readmodel, task):
        sealed = site.readmodel.sealed.get(signal_id)
        if signal_id in site.readmodel.erased:
            views.append(SignalView(signal_id, erased=True))
            continue
        if sealed is None:
            continue
        try:
            secret = open_secret(site, sealed)
        except Erased:  # its key is gone (the audit entry may not be read yet)
            views.append(SignalView(signal_id, erased=True))
            continue
        except (SealError, ValueError, ValidationError):
            # A key rotated without re-sealing, or a tampered record: say so, show nothing.
            log.error("persons of signal %s cannot be opened with this data key", signal_id)
            continue
        noted = site.readmodel.noted.get(signal_id)
        files = noted.evidence if noted else []
        views.append(
            disclose(signal_id, secret.persons, secret.summary, level, files, secret.online)
        )
    shown = sum(v.names_shown for v in views)
    opened = [v for v in views if not v.erased]
    if opened and level is not Sharing.none:
        # Who looked at whose data is itself a record the city must keep.
        await site.flow.audit_view(
            person,
            "persons.viewed",
            task.id,
            via=via,
            sharing=level.value,
            signals=",".join(v.signal_id for v in opened),
            names_shown=str(shown),
            files_listed=str(sum(len(v.evidence) for v in opened)),
        )
    return Disclosed(level, views)


def answered_by(readmodel: ReadModel, task: Task) -> list[str]:
    """The signals whose persons a task may show: those its playbook fired on. A report
    merged into the situation later, or about something else, is not the task's to show.
    (Tasks planned before triggers were recorded show the situation's signals.)"""
    if task.signals:
        return list(task.signals)
    situation = readmodel.situations.get(task.situation_id)
    return [r.id for r in situation.signals] if situation else []


def as_json(views: list[SignalView]) -> list[dict[str, object]]:
    """The API's form of `persons_for`'s answer."""
    return [
        {
            "signal_id": v.signal_id,
            "persons": [asdict(p) for p in v.persons],
            "withheld": v.withheld,
            "summary": v.summary,
            "erased": v.erased,
            "evidence": [e.model_dump() for e in v.evidence],
            "withheld_files": v.withheld_files,
            "online": v.online.model_dump(mode="json") if v.online else None,
        }
        for v in views
    ]


async def lookup(site: Site, task: Task, who: Actor) -> Answer:
    """The API answer: 200 with the views; 404 when the task is not the viewer's, 409 when
    its state withholds them, 410 `{"erased": true}` when all there was is erased."""
    try:
        seen = await persons_for(site, task, who, "api")
    except NotYours as exc:
        return Answer(404, {"error": str(exc)})
    except NotDisclosed as exc:
        return Answer(409, {"error": str(exc)})
    if seen.signals and all(v.erased for v in seen.signals):
        gone = [v.signal_id for v in seen.signals]
        return Answer(410, {"task_id": task.id, "erased": True, "signals": gone})
    body = {"task_id": task.id, "sharing": seen.sharing.value, "signals": as_json(seen.signals)}
    return Answer(200, body)


async def api_persons(site: Site, request: Request, task_id: str) -> Response:
    """`GET /api/tasks/{id}/persons`: the same view for an agency's own systems."""
    token = authenticate(site.readmodel, request.headers.get("Authorization"))
    if token is None:
        return error(401, "a valid API token is required")
    task = site.readmodel.tasks.get(task_id)
    if task is None:
        return error(404, "no such task for you")
    answer = await lookup(site, task, Actor.of_token(token))
    return answer.response({"Cache-Control": "no-store"})


def register(app: faust.App, site: Site) -> None:
    """Bind `GET /api/tasks/{id}/persons`."""
    route(app, "/api/tasks/{task_id}/persons", get=bind(api_persons, site))
