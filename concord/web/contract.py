"""The HTTP API's contract: `GET /openapi.json`, an OpenAPI 3.1 document made from the
models that validate each request (`streams/`) and describe each answer (`web/schemas`).

`OPERATIONS` lists every machine endpoint: the JSON API, `/healthz`, `/metrics` and
this document. A unit test checks that it names exactly the `/api/` routes the views
bind; the contract test runs schemathesis against a live `concord up` and holds every
answer to its status codes and schemas. The pages (HTML, for people) are in
docs/api.md and docs/pages.md, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import TypeAdapter

from concord.core.reports import KEY_MOST
from concord.streams.reports import ReportIn
from concord.streams.reviews import VoteIn
from concord.streams.signals import SignalIn
from concord.streams.situations import SituationChangeIn
from concord.streams.tasks import TaskActionIn
from concord.web import schemas as s

REF = "#/components/schemas/{model}"
#: Answers every endpoint that takes a token may give.
AUTH_ANSWERS: Mapping[int, tuple[str, Any]] = {
    401: ("no valid API token (`Authorization: Bearer ...`)", s.Problem),
    403: ("the token's role may not do this", s.Problem),
}
#: Answers of an endpoint that answers only once the broker holds what it wrote.
ACKED = {503: ("the broker did not confirm in time: send it again after Retry-After", s.Problem)}
ACKED_HEADERS = {503: {"Retry-After": "seconds to wait before sending again"}}
BODY_ANSWERS: Mapping[int, tuple[str, Any]] = {
    413: ("the body is larger than allowed", s.Problem),
    422: ("the body is not valid: `errors` names each field", s.Problem),
}


@dataclass(frozen=True)
class Param:
    """A query, path or header parameter: its name, what it means, its values if closed."""

    name: str
    description: str
    where: Literal["query", "path", "header"] = "query"
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One endpoint and method: who may call it, what it takes, what it answers."""

    method: Literal["get", "post"]
    path: str
    summary: str
    tag: str
    answers: Mapping[int, tuple[str, Any]]
    body: Any = None
    body_required: bool = True
    params: tuple[Param, ...] = ()
    token: bool = True
    roles: tuple[str, ...] = ()
    media: str = "application/json"
    body_media: str = "application/json"
    headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The operationId: the method and the path (`get_api_tasks_task_id_persons`)."""
        path = self.path.replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")
        return f"{self.method}{path}"


def _id(path: str) -> Param:
    return Param(path, f"the {path.removesuffix('_id')}'s id", "path")


SITUATION_ID, TASK_ID = _id("situation_id"), _id("task_id")

ROLES_BOARD = ("coordinator", "operator", "panel")
IDEMPOTENCY = (
    "the sender's key for this report (a UUID, say): sent again with the same key and "
    "report, it is the same report under the same receipt, taken once"
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/api/signals",
        "Send one signal or an array of them; 202 once every one is durably in Kafka",
        "signals",
        {202: ("accepted", s.SignalsAccepted), **AUTH_ANSWERS, **BODY_ANSWERS, **ACKED},
        body=SignalIn | list[SignalIn],
        roles=("producer", "coordinator", "operator"),
    ),
    Operation(
        "post",
        "/api/cap",
        "A CAP 1.2 alert from another system; 202 once it is durably in Kafka",
        "signals",
        {202: ("accepted", s.CapAccepted), **AUTH_ANSWERS, **BODY_ANSWERS, **ACKED},
        body=str,
        body_media="application/cap+xml",
        roles=("producer", "coordinator", "operator"),
    ),
    Operation(
        "post",
        "/api/reports",
        "A report from the public or an NGO (no token); the receipt code comes back",
        "reports",
        {
            202: ("received", s.ReportAccepted),
            **BODY_ANSWERS,
            413: ("the body, or one of its files, is larger than allowed", s.Problem),
            415: ("a file is not JPEG, PNG, WebP, PDF or plain text", s.Problem),
            429: ("too many reports from this client; see Retry-After", s.Problem),
            **ACKED,
        },
        body=ReportIn,
        token=False,
        params=(Param("Idempotency-Key", IDEMPOTENCY, "header"),),
        headers={429: {"Retry-After": "seconds until a report is taken again"}},
    ),
    Operation(
        "get",
        "/api/situations",
        "Situations, newest first; each signal's summary scrubbed, and its reading audited",
        "situations",
        {200: ("the situations", list[s.SituationOut]), **AUTH_ANSWERS, **ACKED},
        params=(Param("state", "only situations in this state"),),
        roles=ROLES_BOARD,
    ),
    Operation(
        "get",
        "/api/situations/{situation_id}",
        "One situation, with its tasks and its review",
        "situations",
        {
            200: ("the situation", s.SituationOut),
            **AUTH_ANSWERS,
            404: ("no such situation", s.Problem),
            **ACKED,
        },
        params=(SITUATION_ID,),
        roles=ROLES_BOARD,
    ),
    Operation(
        "get",
        "/api/situations/{situation_id}/cap",
        "The situation as an OASIS CAP 1.2 alert (Restricted scope; no person, no report's "
        "text); the view is audited",
        "situations",
        {
            200: ("a CAP 1.2 alert (XML)", str),
            **AUTH_ANSWERS,
            404: ("no such situation", s.Problem),
        },
        params=(SITUATION_ID,),
        roles=ROLES_BOARD,
        media="application/cap+xml",
    ),
    Operation(
        "post",
        "/api/situations/{situation_id}/{action}",
        "Change a situation's state, split it or merge it (coordinators)",
        "situations",
        {
            202: ("accepted; the correlate stage applies it", s.ChangeAccepted),
            **AUTH_ANSWERS,
            404: ("no such situation", s.Problem),
            409: ("the lifecycle forbids it", s.Problem),
            **BODY_ANSWERS,
            **ACKED,
        },
        body=SituationChangeIn,
        body_required=False,
        params=(
            SITUATION_ID,
            Param("action", "what to do", "path", ("state", "split", "merge")),
        ),
        roles=("coordinator",),
    ),
    Operation(
        "get",
        "/api/tasks",
        "Tasks; a liaison sees their agency's only",
        "tasks",
        {200: ("the tasks", list[s.TaskOut]), **AUTH_ANSWERS},
        params=(Param("agency", "only this agency's tasks"), Param("state", "only this state")),
        roles=("coordinator", "operator", "liaison"),
    ),
    Operation(
        "post",
        "/api/tasks/{task_id}/{action}",
        "Acknowledge, decline (with a reason), complete or reassign a task",
        "tasks",
        {
            202: ("accepted; the track stage applies it", s.TaskActionAccepted),
            **AUTH_ANSWERS,
            404: ("no such task for you", s.Problem),
            409: ("the task's state does not allow it", s.Problem),
            **BODY_ANSWERS,
            **ACKED,
        },
        body=TaskActionIn,
        body_required=False,
        params=(
            TASK_ID,
            Param("action", "what to do", "path", ("ack", "decline", "done", "reassign")),
        ),
        roles=("liaison", "coordinator"),
    ),
    Operation(
        "get",
        "/api/tasks/{task_id}/persons",
        "The persons of a task's reports, cut to the caller's sharing level (audited)",
        "tasks",
        {
            200: ("the persons, per signal", s.Persons),
            **AUTH_ANSWERS,
            404: ("no such task for you", s.Problem),
            409: ("the task's state withholds them", s.Problem),
            410: ("erased", s.Erased),
            **ACKED,
        },
        params=(TASK_ID,),
        roles=("liaison", "coordinator"),
    ),
    Operation(
        "get",
        "/api/reviews",
        "The panel's reviews, newest first",
        "reviews",
        {200: ("the reviews", list[s.ReviewOut]), **AUTH_ANSWERS},
        params=(Param("outcome", "only reviews with this outcome"),),
        roles=("coordinator", "panel"),
    ),
    Operation(
        "get",
        "/api/reviews/{situation_id}",
        "One review: every version of the analysis, every vote, the outcome",
        "reviews",
        {200: ("the review", s.ReviewOut), **AUTH_ANSWERS, 404: ("no such review", s.Problem)},
        params=(SITUATION_ID,),
        roles=("coordinator", "panel"),
    ),
    Operation(
        "post",
        "/api/reviews/{situation_id}/votes",
        "A panel member's vote on one version of the analysis",
        "reviews",
        {
            200: ("the same vote again: nothing changes", s.VoteAccepted),
            202: ("accepted; the gate stage counts it", s.VoteAccepted),
            **AUTH_ANSWERS,
            404: ("no review is open for this situation", s.Problem),
            409: ("a stale version, a decided review, or a declared conflict", s.Problem),
            **BODY_ANSWERS,
            **ACKED,
        },
        body=VoteIn,
        params=(SITUATION_ID,),
        roles=("panel",),
    ),
    Operation(
        "get",
        "/healthz",
        "Whether this worker serves: 200 ready (ok or degraded), 503 not",
        "operations",
        {200: ("ready", s.Health), 503: ("not ready, stalled or without its broker", s.Health)},
        token=False,
    ),
    Operation(
        "get",
        "/metrics",
        "Prometheus metrics (bind the port to a private interface)",
        "operations",
        {200: ("Prometheus text", str)},
        token=False,
        media="text/plain",
    ),
    Operation(
        "get",
        "/openapi.json",
        "This document",
        "operations",
        {200: ("the OpenAPI 3.1 document", dict[str, Any])},
        token=False,
    ),
)


def _adapter_schema(kind: Any, defs: dict[str, Any], mode: str) -> dict[str, Any]:
    """The JSON Schema of any type (a model, a list, a union), its models in `defs`."""
    found = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, schema in found.pop("$defs", {}).items():
        # One name, one schema: a model that read differently as a request and as an
        # answer would make the document lie about one of them.
        if defs.setdefault(name, schema) != schema:
            raise ValueError(f"{name}: two different schemas under one name")
    return found


def _parameters(op: Operation) -> list[dict[str, Any]]:
    out = []
    for p in op.params:
        schema: dict[str, Any] = {"type": "string"}
        if p.values:
            schema["enum"] = list(p.values)
        elif p.where == "path":
            schema["minLength"] = 1
        elif p.where == "header":  # visible ASCII (`concord.core.reports.idempotency_key`)
            schema.update(minLength=1, maxLength=KEY_MOST, pattern="^[!-~]+$")
        where = {"name": p.name, "in": p.where, "required": p.where == "path"}
        out.append(where | {"description": p.description, "schema": schema})
    return out


def _operation(op: Operation, defs: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    acked = op.answers.get(503) == ACKED[503]  # it says when to send again
    headers = {**(ACKED_HEADERS if acked else {}), **op.headers}
    for status, (description, kind) in sorted(op.answers.items()):
        media = op.media if status < 300 else "application/json"
        answer: dict[str, Any] = {
            "description": description,
            "content": {media: {"schema": _adapter_schema(kind, defs, "serialization")}},
        }
        if status in headers:
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in headers[status].items()
            }
        responses[str(status)] = answer
    out: dict[str, Any] = {
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
        "security": [{"bearer": []}] if op.token else [],
    }
    if op.roles:
        out["description"] = "Roles: " + ", ".join(op.roles) + "."
    if op.params:
        out["parameters"] = _parameters(op)
    if op.body is not None:
        schema = _adapter_schema(op.body, defs, "validation")
        out["requestBody"] = {
            "required": op.body_required,
            "content": {op.body_media: {"schema": schema}},
        }
    return out


def document(max_batch: int, areas: Sequence[str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `OPERATIONS`: `max_batch` is the most signals a POST
    takes, `areas` the directory's area codes (the only ones a signal or report may name)."""
    defs: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, defs)
    batch = paths["/api/signals"]["post"]["requestBody"]["content"]["application/json"]
    for option in batch["schema"]["anyOf"]:
        if option.get("type") == "array":
            option.update(minItems=1, maxItems=max_batch)
    report = paths["/api/reports"]["post"]["requestBody"]["content"]["application/json"]
    for schema in (defs["SignalIn"], report["schema"]):
        schema["properties"]["area"]["enum"] = list(areas)
    paths["/api/reports"]["post"]["requestBody"]["content"]["multipart/form-data"] = s.with_files(
        report["schema"]
    )
    try:
        release = version("concord")
    except PackageNotFoundError:  # run from a checkout that is not installed
        release = "0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Concord",
            "version": release,
            "description": "Inter-agency conflict-response coordination: signals in; "
            "situations, tasks and reviews out. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `concord token create NAME --role ROLE`",
                }
            },
        },
    }
