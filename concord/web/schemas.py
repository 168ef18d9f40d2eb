"""What the JSON API answers, as models: the bodies `GET /openapi.json` describes.

The requests are validated by the topics' own input models (`SignalIn`, `ReportIn`,
`VoteIn`, `TaskActionIn`, `SituationChangeIn`). The answers are built by the views from
the snapshots they read; these models describe those answers, and the contract test
(schemathesis against a running `concord up`) holds every answer to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from concord.streams.reviews import ReviewRecord
from concord.streams.signals import EvidenceRef
from concord.streams.situations import Analysis, SignalRef, Situation
from concord.streams.tasks import Task


class Body(BaseModel):
    """The base of every answer's body: frozen, and strict about what it shows (not
    `web.answer.Answer`, which is the status and body a view returns)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldError(Body):
    """One field that was refused: its dotted path (`1.severity`, `(body)`) and why."""

    loc: str
    msg: str


class Problem(BaseModel):
    """A refusal: what is wrong, the fields at fault (422), and what the state was (409)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    error: str
    errors: list[FieldError] | None = Field(None, description="422: each field at fault")


class SignalsAccepted(Body):
    """`POST /api/signals`: every signal is durably in Kafka."""

    accepted: list[str] = Field(description="the ids of the signals, in the order sent")


class ReportAccepted(Body):
    """`POST /api/reports`: the report's receipt code and its status page."""

    receipt: str
    status: str = Field(description="the path of the receipt's status page")
    referred_to: str | None = Field(
        None, description="the competent body the report was referred to (its id)"
    )


class CapAccepted(Body):
    """`POST /api/cap`: the alert is durably in Kafka; what it becomes."""

    identifier: str
    signals: list[str] = Field(description="the ids of its signals")
    triage: list[str] = Field(description="signals whose area matched none: triage")
    cancels: list[str] = Field(description="the alerts (identifiers) a Cancel closes")


class TaskActionAccepted(Body):
    """A task action taken: the track stage applies it."""

    accepted: bool
    task_id: str
    action: str


class ChangeAccepted(Body):
    """A situation change taken: the correlate stage applies it."""

    accepted: bool
    situation_id: str
    action: str


class VoteAccepted(BaseModel):
    """A vote taken (202), or the same vote again (200, `unchanged`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    accepted: bool
    unchanged: bool = False


class DeliveryState(Body):
    """Where the message that gives a task to its assignee stands."""

    state: str
    channel: str | None
    attempts: int
    next_at: AwareDatetime | None
    last_error: str | None
    delayed: bool


class TaskOut(Task):
    """A task, with its delivery (when it has one)."""

    delivery: DeliveryState | None = None


def _without(model: type[BaseModel], *names: str) -> dict[str, Any]:
    """`model`'s fields but `names`, for `create_model`."""
    return {
        name: (f.annotation, f)
        for name, f in model.model_fields.items()
        if name not in names and not f.exclude
    }


#: A signal of a situation as the API shows it: never the sealed value; its scrubbed
#: summary opened for the caller (audited), null and `erased` once erased.
SignalOut: type[BaseModel] = create_model(
    "SignalOut",
    __base__=Body,
    **_without(SignalRef, "summary_sealed", "summary"),
    summary=(str | None, None),
    erased=(bool, False),
)


class ReviewState(Body):
    """The panel's review of a situation's analysis, as far as it has got."""

    version: int
    outcome: str
    quorum: int
    approvals: list[str] = Field(description="the members who approved this version")
    rejections: list[str]
    conflicts: list[str] = Field(description="the members who declared a conflict")
    deadline: AwareDatetime | None


SituationOut: type[BaseModel] = create_model(
    "SituationOut",
    __base__=Body,
    **_without(Situation, "signals", "analysis"),
    signals=(list[SignalOut], ...),
    tasks=(list[TaskOut], Field(default_factory=list)),
    analysis=(ReviewState | Analysis, Field(description="the review, once there is one")),
)

ReviewOut: type[BaseModel] = create_model(
    "ReviewOut",
    __base__=Body,
    **_without(ReviewRecord, "situation"),
    version=(int, ...),
    quorum=(int, ...),
)


class PersonOut(Body):
    """One person as the caller may see them (`null`: withheld)."""

    role: str
    name: str | None
    contact: str | None
    consented: bool


class OnlineOut(Body):
    """Where a report's content was seen online: as text, never a link."""

    url: str
    platform: str
    seen_at: datetime | None


class PersonsOut(Body):
    """The persons of one signal of a task, cut to the caller's sharing level."""

    signal_id: str
    persons: list[PersonOut]
    withheld: int
    summary: str | None
    erased: bool
    evidence: list[EvidenceRef] = Field(
        default_factory=list, description="files the caller may open on the task page"
    )
    withheld_files: int = Field(0, description="files not shown at this level")
    online: OnlineOut | None = Field(None, description="where it was seen online")


class Persons(Body):
    """`GET /api/tasks/{id}/persons`: the task's persons, signal by signal."""

    task_id: str
    sharing: str = Field(description="the caller's agency's sharing level")
    signals: list[PersonsOut]


class Erased(Body):
    """410: all there was is erased."""

    task_id: str
    erased: bool
    signals: list[str] = Field(description="the signals whose persons were erased")


class Health(BaseModel):
    """`GET /healthz`: where the worker stands (see docs/operations.md)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str = Field(
        description="ok, degraded, starting, stalled or broker_unreachable",
    )
    broker: bool
    worker: bool
    read_model: bool


def with_files(report: dict[str, Any]) -> dict[str, Any]:
    """A report with its evidence: the report as JSON in the part `report`, and up to
    five files in parts named `files`."""
    return {
        "schema": {
            "type": "object",
            "required": ["report"],
            "properties": {
                "report": report,
                "files": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "description": "JPEG, PNG, WebP, PDF or plain text; 10 MB each",
                },
            },
        },
        "encoding": {"report": {"contentType": "application/json"}},
    }
