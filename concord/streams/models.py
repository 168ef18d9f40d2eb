"""One pydantic model per topic. JSON on the wire; validated where it enters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)


def utcnow() -> datetime:
    """Now, timezone-aware (UTC)."""
    return datetime.now(UTC)


#: The earliest `occurred_at` a signal may carry.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: How far in the future `occurred_at` may be (clocks of producers drift a little).
FUTURE_TOLERANCE = timedelta(minutes=5)


class Kind(StrEnum):
    incident = "incident"
    tension = "tension"


class Category(StrEnum):
    hate_crime = "hate_crime"
    hate_speech = "hate_speech"
    online_hate = "online_hate"
    discrimination = "discrimination"
    harassment = "harassment"
    vandalism = "vandalism"
    intergroup_conflict = "intergroup_conflict"
    rumour = "rumour"
    demonstration = "demonstration"
    other = "other"


class Bias(StrEnum):
    anti_muslim = "anti_muslim"
    anti_black = "anti_black"
    antisemitic = "antisemitic"
    anti_roma = "anti_roma"
    anti_migrant = "anti_migrant"
    anti_asian = "anti_asian"
    other = "other"


Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


def _printable_id(value: str) -> str:
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValueError("an id has no spaces, line breaks or control characters")
    return value


#: A producer's id: printable, no spaces or control characters (ids end up in logs,
#: keys and links), 1 to 128 characters.
SignalId = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable_id)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(Strict):
    """Someone named in a report. Sensitive: sealed after intake, never sent to carriers."""

    role: Literal["victim", "witness", "reporter"]
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    contact: Annotated[str, StringConstraints(max_length=200)] = ""
    consent_to_share: StrictBool = False


class Location(Strict):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class Source(Strict):
    type: Code = Field(description="ngo, school, police, public, monitoring, ...")
    name: ShortText


class SignalIn(Strict):
    """What a producer sends (DESIGN.md, 'Signal'). Read from `concord.signals.in`."""

    id: SignalId = Field(description="producer's idempotency key")
    kind: Kind
    category: Category
    bias: list[Bias] = Field(default_factory=list, max_length=len(Bias))
    # Strict: "5", 5.0 or true are a producer's mistake, not a severity.
    severity: StrictInt = Field(ge=1, le=5)
    occurred_at: AwareDatetime
    area: Code
    location: Location | None = None
    source: Source
    summary: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    persons: list[Person] = Field(default_factory=list, max_length=50)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "en"
    exercise: StrictBool = False
    tags: list[Code] = Field(default_factory=list, max_length=20)

    @field_validator("occurred_at")
    @classmethod
    def _sane_time(cls, value: datetime) -> datetime:
        if value < EARLIEST:
            raise ValueError("occurred_at must not be before 1970-01-01")
        if value > utcnow() + FUTURE_TOLERANCE:
            raise ValueError("occurred_at must not be more than 5 minutes in the future")
        return value

    @field_validator("bias")
    @classmethod
    def _unique_bias(cls, value: list[Bias]) -> list[Bias]:
        return list(dict.fromkeys(value))


class Signal(Strict):
    """A validated signal on `concord.signals`: `persons` sealed, summary kept as sent."""

    id: str
    kind: Kind
    category: Category
    bias: list[Bias]
    severity: int
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    area: str
    location: Location | None = None
    source: Source
    summary: str
    persons_sealed: str | None = None
    person_count: int = 0
    person_roles: list[str] = Field(default_factory=list)
    language: str
    exercise: bool
    tags: list[str]


class SituationState(StrEnum):
    open = "open"
    under_review = "under_review"
    responding = "responding"
    monitoring = "monitoring"
    closed = "closed"


class SignalRef(Strict):
    """A signal as the situation keeps it: no persons, not even sealed."""

    id: str
    kind: Kind
    category: Category
    severity: int
    occurred_at: AwareDatetime
    source_type: str
    summary: str
    area: str | None = Field(None, description="where it happened (None: the situation's)")
    bias: list[Bias] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Analysis(Strict):
    version: int = 1
    text: str = ""


Level = Literal["low", "moderate", "high", "critical"]


class Tension(Strict):
    """Tension score and level of a situation (rules in `concord.core.tension`)."""

    score: float = 0.0
    level: Level = "low"


class PastSituation(Strict):
    """An earlier situation of the same area, as the analysis recalls it."""

    id: str
    opened_at: AwareDatetime = Field(description="when its first signal occurred")
    severity: int
    categories: list[Category]
    state: SituationState
    signals: int


class AreaContext(Strict):
    """What the area saw around a situation (for the panel's analysis)."""

    week_earlier: int = Field(0, description="signals in the area 7 to 3.5 days before")
    week_recent: int = Field(0, description="signals in the area in the last 3.5 days")
    signals_90_days: int = Field(0, description="other signals in the area in 90 days")
    previous: list[PastSituation] = Field(
        default_factory=list, description="earlier situations in the area, 90 days"
    )


class PlaybookMatch(Strict):
    """What the correlation stage decided about one playbook for a situation."""

    playbook: str
    version: int
    revision: str = Field("", description="digest of the playbook file that decided")
    status: Literal["fired", "suppressed", "inhibited"]
    reason: str = ""
    at: AwareDatetime
    signals: list[str] = Field(
        default_factory=list, description="the signals its conditions held for (triggers)"
    )


class Situation(Strict):
    """A snapshot on `concord.situations`, keyed by situation id."""

    id: str
    area: str
    state: SituationState = SituationState.open
    severity: int
    kinds: list[Kind]
    categories: list[Category]
    bias: list[Bias]
    tags: list[str]
    signals: list[SignalRef]
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    exercise: bool = False
    analysis: Analysis = Field(default_factory=Analysis)
    last_signal: str = Field(description="id of the signal that made this snapshot")
    tension: Tension = Field(default_factory=Tension, description="as of the latest signal")
    measures: dict[str, list[int]] = Field(
        default_factory=dict, description="area figures for thresholds and trends"
    )
    matches: list[PlaybookMatch] = Field(
        default_factory=list, description="playbooks fired, suppressed or inhibited"
    )
    context: AreaContext = Field(default_factory=AreaContext, description="the area around it")
    areas: list[str] = Field(
        default_factory=list, description="every area its signals come from (home area first)"
    )
    merged_into: str | None = Field(None, description="closed by a merge into this situation")
    split_from: str | None = Field(None, description="split off this situation")

    @property
    def latest_at(self) -> datetime:
        """When the latest of its signals occurred."""
        return max(r.occurred_at for r in self.signals)


class TaskState(StrEnum):
    pending = "pending"
    assigned = "assigned"
    acknowledged = "acknowledged"
    declined = "declined"
    escalated = "escalated"
    reassigned = "reassigned"
    done = "done"
    cancelled = "cancelled"
    failed = "failed"


class Decision(StrEnum):
    approve = "approve"
    amend = "amend"
    reject = "reject"
    conflict = "conflict"


VoteChannel = Literal["web", "slack", "email", "api"]


class Vote(Strict):
    """One panel member's vote on one version of a situation's analysis."""

    member: str
    decision: Decision
    version: int = Field(ge=1, description="the analysis version voted on")
    reason: str = Field("", max_length=4000)
    channel: VoteChannel = "api"
    at: AwareDatetime = Field(default_factory=utcnow)


class ReviewStamp(Strict):
    """On a released task: the analysis version and the votes behind it."""

    analysis_version: int
    released_by: Literal["panel", "time_limit"]
    approvals: list[str] = Field(default_factory=list)
    dissent: list[Vote] = Field(default_factory=list)
    at: datetime


class TaskText(Strict):
    """A task's title and action in one language."""

    title: str
    action: str


class Task(Strict):
    """A task for one agency (its snapshots are on `concord.task-state`)."""

    id: str
    situation_id: str
    playbook_id: str
    playbook_version: int
    playbook_revision: str = Field("", description="digest of the playbook file")
    task_key: str = Field(description="the task's id inside its playbook")
    agency: str
    assignee: str | None = Field(None, description="liaison id")
    state: TaskState = TaskState.pending
    title: str
    action: str = Field(description="rendered action text, already redacted")
    translations: dict[str, TaskText] = Field(
        default_factory=dict, description="title and action in other languages"
    )
    due: AwareDatetime | None = None
    urgent: bool = False
    depends_on: list[str] = Field(default_factory=list, description="task ids to finish first")
    release_on_decline: bool = Field(False, description="released when a prerequisite declines")
    remind_before: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: list[str] = Field(default_factory=list)
    fallback: str | None = Field(None, description="agency that gets the task when declined")
    channels: list[str] = Field(default_factory=list)
    area: str = Field(description="where its latest trigger happened")
    areas: list[str] = Field(
        default_factory=list, description="where each signal it answers happened"
    )
    signals: list[str] = Field(
        default_factory=list,
        description="the signals it answers (its playbook's triggers): whose persons it shows",
    )
    category: Category
    severity: int
    exercise: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deliveries: list[str] = Field(default_factory=list, description="channels that delivered")
    awaiting: Literal["panel"] | None = Field(None, description="held: what it waits for")
    review: ReviewStamp | None = Field(None, description="the panel decision that released it")

    def text(self, language: str) -> TaskText:
        """Title and action in `language`, else in the default language."""
        return self.translations.get(language) or TaskText(title=self.title, action=self.action)


class Receipt(Strict):
    """One delivery attempt (`concord.deliveries`)."""

    task_id: str
    channel: str
    recipient: str
    attempt: int
    ok: bool
    retryable: bool = False
    error: str | None = None
    provider_id: str | None = None
    exercise: bool = False
    at: AwareDatetime = Field(default_factory=utcnow)


class DeadLetter(Strict):
    """A record that could not be processed (`concord.deadletter`). Nothing is dropped.

    `original` is sealed: raw reports may name victims, so the bytes are kept encrypted.
    `concord deadletter show` opens them for an operator.
    """

    reason: str
    errors: list[dict[str, str]] = Field(default_factory=list)
    original: str
    original_size: int
    topic: str
    partition: int | None = None
    offset: int | None = None
    stage: str = Field("intake", description="the stage that could not process the record")
    key: str | None = Field(None, description="the record's key, as sent")
    at: AwareDatetime = Field(default_factory=utcnow)


class AuditEntry(Strict):
    """Every transition: who, what, when (`concord.audit`)."""

    at: AwareDatetime = Field(default_factory=utcnow)
    actor: str
    action: str
    subject: str
    channel: str | None = None
    details: dict[str, str] = Field(default_factory=dict)


class ApiToken(Strict):
    """An API token record (`concord.tokens`, compacted, keyed by the token's hash)."""

    hash: str
    name: str
    role: Literal["producer", "coordinator", "panel", "liaison", "operator"]
    agency: str | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    revoked: bool = False


class SessionMark(Strict):
    """A sign-in fact every worker must know (`concord.sessions`, compacted, keyed by id):
    a session that was signed out, or a sign-in link that was used."""

    kind: Literal["revoked", "link_used"]
    id: str = Field(description="the session id, or the sign-in link's nonce")
    person: str
    at: AwareDatetime = Field(default_factory=utcnow)
