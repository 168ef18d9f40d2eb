"""The JSON API: signals in; situations, tasks and reviews out; votes and situation
changes (the task actions are `concord.web.tasks`, the persons `concord.web.persons`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.web import Request, Response
from pydantic import ValidationError

from concord.common.types import utcnow
from concord.core import cap, intake
from concord.core.commands import refusal
from concord.core.correlation import area_key
from concord.core.refusal import Refused
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import SignalIn
from concord.streams.situations import Situation, SituationChangeIn, SituationCommand
from concord.streams.tasks import Task
from concord.web import contract, tasks, texts, votes
from concord.web.answer import Answer, errors_of
from concord.web.auth import require
from concord.web.body import read_json
from concord.web.readmodel import ReadModel
from concord.web.site import Site, bind, bytes_response, error, json_response, route
from concord.web.votes import Ballot

SIGNAL_ROLES = {"producer", "coordinator", "operator"}
BOARD_ROLES = {"coordinator", "operator", "panel"}
REVIEW_ROLES = {"coordinator", "panel"}
TASK_ROLES = {"coordinator", "operator", "liaison"}
#: Largest body of a vote or a situation change.
SMALL_BODY = 64_000


@dataclass(frozen=True)
class Api:
    """What the API needs beyond the site: the ballot (votes) and the body limits."""

    ballot: Ballot
    max_body: int
    max_batch: int
    #: who CAP alerts say sent them (`CONCORD_SMTP_FROM`)
    cap_sender: str = "concord@localhost"

    @property
    def site(self) -> Site:
        """The site the API's views share."""
        return self.ballot.site


def task_json(task: Task, readmodel: ReadModel | None = None) -> dict[str, Any]:
    """A task as the API shows it, with where the delivery to its assignee stands."""
    out = task.model_dump(mode="json")
    found = readmodel.delivery_of(task) if readmodel is not None else None
    if found is not None:
        out["delivery"] = {
            "state": found.state,
            "channel": found.delivered_by or found.current,
            "attempts": found.total_attempts,
            "next_at": found.next_at.isoformat() if found.next_at else None,
            "last_error": found.last_error,
            "delayed": found.delayed(utcnow()),
        }
    return out


def review_json(r: ReviewRecord) -> dict[str, Any]:
    """A review as the API shows it: versions, votes (with dissent) and where it stands."""
    out = r.model_dump(mode="json", exclude={"situation"})
    out.update(version=r.version, quorum=r.quorum)
    return out


def situation_json(
    s: Situation, readmodel: ReadModel, said: dict[str, texts.Said] | None = None
) -> dict[str, Any]:
    """A situation as the API shows it, with its tasks and its analysis' review; each
    signal with what it says (`summary`: scrubbed, opened for the caller; null and
    `erased: true` once erased), never the sealed value."""
    out = s.model_dump(mode="json")
    for ref in out["signals"]:
        found = (said or {}).get(ref["id"])
        del ref["summary_sealed"]
        ref["summary"] = found.text if found else None
        ref["erased"] = bool(found and found.erased)
    out["tasks"] = [task_json(x, readmodel) for x in readmodel.tasks_of(s.id)]
    review = readmodel.reviews.get(s.id)
    if review is not None:
        out["analysis"] = {
            "version": review.version,
            "outcome": review.outcome,
            "quorum": review.quorum,
            "approvals": review.approvals,
            "rejections": review.rejections,
            "conflicts": review.conflicts,
            "deadline": review.deadline.isoformat() if review.deadline else None,
        }
    return out


def validate_signals(body: Any, site: Site) -> tuple[list[SignalIn], list[dict[str, str]]]:
    """The signals of a request's body (one or an array), or their field errors."""
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        return [], [{"loc": "(body)", "msg": "empty array"}]
    signals: list[SignalIn] = []
    errors: list[dict[str, str]] = []
    for i, item in enumerate(items):
        result = intake.validate_signal(item, site.directory)
        if isinstance(result, Refused):
            prefix = f"{i}." if isinstance(body, list) else ""
            errors.extend({"loc": prefix + e["loc"], "msg": e["msg"]} for e in result.errors)
        else:
            signals.append(result)
    return signals, errors


async def post_signals(api: Api, request: Request) -> Response:
    """`POST /api/signals`: one signal or an array; 202 once every one is in Kafka."""
    site = api.site
    require(site.readmodel, request, SIGNAL_ROLES)
    body = await read_json(request, api.max_body)
    if isinstance(body, list) and len(body) > api.max_batch:
        return error(413, f"more than {api.max_batch} signals in one request")
    signals, errors = validate_signals(body, site)
    if errors:
        return error(422, "invalid signal", errors=errors)
    # Validated here: sealed and admitted straight to concord.signals. 202 means every
    # signal is durably in Kafka: the broker's acks, within the ack deadline (else 503).
    await site.flow.acked(*(site.flow.admit(site.directory, signal) for signal in signals))
    site.flow.metrics.signals.labels("api").inc(len(signals))
    return json_response({"accepted": [s.id for s in signals]}, 202)


async def list_situations(site: Site, request: Request) -> Response:
    """`GET /api/situations[?state=]`, newest first."""
    token = require(site.readmodel, request, BOARD_ROLES)
    items = sorted(site.readmodel.situations.values(), key=lambda s: s.updated_at, reverse=True)
    state = request.query.get("state")
    shown = [s for s in items if not state or s.state == state]
    refs = [r for s in shown for r in s.signals]
    said = await texts.read(site, refs, token.name, "situations", "api")
    return json_response([situation_json(s, site.readmodel, said) for s in shown])


async def one_situation(site: Site, request: Request, situation_id: str) -> Response:
    """`GET /api/situations/{id}`."""
    token = require(site.readmodel, request, BOARD_ROLES)
    s = site.readmodel.situations.get(situation_id)
    if s is None:
        return error(404, "no such situation")
    said = await texts.read(site, s.signals, token.name, s.id, "api")
    return json_response(situation_json(s, site.readmodel, said))


async def situation_cap(api: Api, request: Request, situation_id: str) -> Response:
    """`GET /api/situations/{id}/cap`: the situation as a CAP 1.2 alert (no person, no
    report's text); the view is audited."""
    site = api.site
    token = require(site.readmodel, request, BOARD_ROLES)
    s = site.readmodel.situations.get(situation_id)
    if s is None:
        return error(404, "no such situation")
    c = site.pages.catalogues
    xml = cap.of_situation(s, cap.current(s), site.directory, api.cap_sender, c.words, c.message)
    await site.flow.audit(token.name, "situation.cap_viewed", s.id, via="api")
    return bytes_response(xml.encode(), "application/cap+xml")


async def list_tasks(site: Site, request: Request) -> Response:
    """`GET /api/tasks[?agency=&state=]`: a liaison sees only their agency's."""
    auth = require(site.readmodel, request, TASK_ROLES)
    agency = request.query.get("agency")
    if auth.role == "liaison":
        if agency and agency != auth.agency:
            return error(403, "a liaison sees only their agency's tasks")
        agency = auth.agency
    state = request.query.get("state")
    items = sorted(site.readmodel.tasks.values(), key=lambda x: (x.created_at, x.id))
    return json_response(
        [
            task_json(x, site.readmodel)
            for x in items
            if (not agency or x.agency == agency) and (not state or x.state == state)
        ]
    )


async def list_reviews(site: Site, request: Request) -> Response:
    """`GET /api/reviews[?outcome=]`, newest first."""
    require(site.readmodel, request, REVIEW_ROLES)
    outcome = request.query.get("outcome")
    items = sorted(site.readmodel.reviews.values(), key=lambda r: r.opened_at, reverse=True)
    return json_response([review_json(r) for r in items if not outcome or r.outcome == outcome])


async def one_review(site: Site, request: Request, situation_id: str) -> Response:
    """`GET /api/reviews/{id}`."""
    require(site.readmodel, request, REVIEW_ROLES)
    r = site.readmodel.reviews.get(situation_id)
    return json_response(review_json(r)) if r else error(404, "no such review")


async def post_vote(api: Api, request: Request, situation_id: str) -> Response:
    """`POST /api/reviews/{id}/votes` (a panel member's token)."""
    auth = require(api.site.readmodel, request, {"panel"})
    body = await read_json(request, SMALL_BODY)
    parsed = votes.parse_vote(body)
    if isinstance(parsed, Answer):
        return parsed.response()
    # A panel token is named after the member it belongs to.
    answer = await votes.submit(api.ballot, situation_id, auth.name, parsed, "api")
    return answer.response()


async def submit_change(
    site: Site, situation_id: str, action: str, change: SituationChangeIn, actor: str
) -> Answer:
    """Check a coordinator's change against the situation rules and put it on
    `concord.situation-commands` (the API and the board's forms both come here)."""
    s = site.readmodel.situations.get(situation_id)
    if s is None:
        return Answer(404, {"error": "no such situation"})
    command = SituationCommand(
        situation_id=situation_id,
        key=area_key(s.area, s.exercise),
        action=action,  # the routes allow only the three
        to=change.to,
        other=change.other,
        signals=change.signals,
        actor=actor,
        reason=change.reason,
    )
    refused = refusal(s, command, site.readmodel.situations.get(change.other or ""))
    if refused is not None:
        return Answer.refused(refused, "change")
    zone = site.directory.zone(s.area)  # keyed like the signals
    await site.flow.acked(site.flow.topics.situation_commands.send(key=zone, value=command))
    if action == "state" and change.to == "closed":
        await tasks.cancel_open_tasks(site, situation_id, actor)
    return Answer(202, {"accepted": True, "situation_id": situation_id, "action": action})


async def change_situation(
    site: Site, request: Request, situation_id: str, action: str
) -> Response:
    """`POST /api/situations/{id}/state|split|merge` (coordinators); the correlation
    stage applies it. Closing a situation cancels its open tasks."""
    auth = require(site.readmodel, request, {"coordinator"})
    body = await read_json(request, SMALL_BODY, empty={})
    try:
        change = SituationChangeIn.model_validate(body)
    except ValidationError as exc:
        return error(422, "invalid change", errors=errors_of(exc))
    answer = await submit_change(site, situation_id, action, change, auth.name)
    return answer.response()


async def openapi(api: Api, request: Request) -> Response:
    """`GET /openapi.json`: the API's OpenAPI 3.1 contract (`concord.web.contract`)."""
    areas = [a.code for a in api.site.directory.areas]
    return json_response(contract.document(api.max_batch, areas))


def register(app: faust.App, api: Api) -> None:
    """Bind the API's routes."""
    site = api.site
    route(app, "/openapi.json", get=bind(openapi, api))
    route(
        app,
        "/api/situations/{situation_id}/{action:state|split|merge}",
        post=bind(change_situation, site),
    )
    route(app, "/api/reviews", get=bind(list_reviews, site))
    route(app, "/api/reviews/{situation_id}", get=bind(one_review, site))
    route(app, "/api/reviews/{situation_id}/votes", post=bind(post_vote, api))
    route(app, "/api/signals", post=bind(post_signals, api))
    route(app, "/api/situations", get=bind(list_situations, site))
    route(app, "/api/situations/{situation_id}", get=bind(one_situation, site))
    route(app, "/api/situations/{situation_id}/cap", get=bind(situation_cap, api))
    route(app, "/api/tasks", get=bind(list_tasks, site))
