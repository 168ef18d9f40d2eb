"""Signals: what producers send (`concord.signals.in`, validated as `SignalIn`) and what
intake admits (`concord.signals`, `Signal`: what people wrote sealed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from concord.common.text import FreeText
from concord.common.types import Code, SentTime, Strict, utcnow

#: The earliest `occurred_at` a signal may carry.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: How far in the future `occurred_at` may be (clocks of producers drift a little).
FUTURE_TOLERANCE = timedelta(minutes=5)


class Kind(StrEnum):
    """`incident`: something happened; `tension`: a sign that something may."""

    incident = "incident"
    tension = "tension"


class Category(StrEnum):
    """What happened: the shared categories of ECCAR's common indicators."""

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
    """The bias motivation (OSCE ODIHR's categories)."""

    anti_muslim = "anti_muslim"
    anti_black = "anti_black"
    antisemitic = "antisemitic"
    anti_roma = "anti_roma"
    anti_migrant = "anti_migrant"
    anti_asian = "anti_asian"
    other = "other"


class Indicator(StrEnum):
    """A bias indicator (OSCE ODIHR's hate-crime recording): what points to a bias
    motivation. `docs/reports.md` explains each."""

    language = "language"  # words said or written: slurs, insults about a group
    symbols = "symbols"  # symbols, graffiti, gestures, flags
    date = "date"  # a date of significance (a religious feast, a commemoration)
    perception = "perception"  # the victim or a witness perceived it as biased
    statements = "statements"  # what the perpetrator said before, during or after
    location = "location"  # a place of significance: a place of worship, a community centre


#: What the reporter wants done: `act` (follow-up, tasks, contact only with consent) or
#: `register` (counted in the indicators only: no task, no contact).
Wants = Literal["act", "register"]


class EvidenceRef(Strict):
    """A file given with a report, as signals carry it: never its bytes nor its name.
    The blob (sealed under the signal's data key) lives in the evidence store."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    digest: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of the file as stored (metadata stripped)"
    )
    type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf", "text/plain"]
    size: StrictInt = Field(ge=1, description="bytes, as stored")


ShortText = Annotated[
    FreeText, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)
]


def _printable_id(value: str) -> str:
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValueError("an id has no spaces, line breaks or control characters")
    return value


#: A producer's id: printable, no spaces or control characters (ids end up in logs,
#: keys and links), 1 to 128 characters.
SignalId = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable_id)
]


class Person(Strict):
    """Someone named in a report. Sensitive: sealed after intake, never sent to carriers."""

    role: Literal["victim", "witness", "reporter"]
    name: Annotated[FreeText, StringConstraints(max_length=200)] = ""
    contact: Annotated[FreeText, StringConstraints(max_length=200)] = ""
    consent_to_share: StrictBool = False


class Location(Strict):
    """Where it happened, if the producer knows (WGS 84). Strict: `true` or `"4.3"` is a
    producer's mistake, not a coordinate."""

    lat: StrictFloat = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: StrictFloat = Field(ge=-180, le=180, allow_inf_nan=False)


class Source(Strict):
    """Who reported: the kind of source and its name (sealed after intake)."""

    type: Code = Field(description="ngo, school, police, public, monitoring, ...")
    name: ShortText


class Online(Strict):
    """Where hateful content was seen online. The URL is kept as text (sealed): Concord
    never fetches it and never shows it as a live link."""

    url: Annotated[FreeText, StringConstraints(max_length=2000, strip_whitespace=True)] = ""
    platform: Annotated[FreeText, StringConstraints(max_length=100, strip_whitespace=True)] = ""
    seen_at: SentTime | None = None


class SignalIn(Strict):
    """What a producer sends (docs/api.md, 'Signals'). Read from `concord.signals.in`."""

    id: SignalId = Field(description="producer's idempotency key")
    kind: Kind
    category: Category
    bias: list[Bias] = Field(default_factory=list, max_length=len(Bias))
    # Strict: "5", 5.0 or true are a producer's mistake, not a severity.
    severity: StrictInt = Field(ge=1, le=5)
    occurred_at: SentTime
    area: Code
    location: Location | None = None
    source: Source
    summary: Annotated[FreeText, StringConstraints(min_length=1, max_length=4000)]
    persons: list[Person] = Field(default_factory=list, max_length=50)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "en"
    exercise: StrictBool = False
    tags: list[Code] = Field(default_factory=list, max_length=20)
    wants: Wants = Field("act", description="act: follow it up; register: count it only")
    indicators: list[Indicator] = Field(
        default_factory=list, max_length=len(Indicator), description="bias indicators"
    )
    online: Online | None = Field(None, description="where it was seen online (sealed)")

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

    @field_validator("indicators")
    @classmethod
    def _unique_indicators(cls, value: list[Indicator]) -> list[Indicator]:
        return list(dict.fromkeys(value))


class Signal(Strict):
    """A validated signal on `concord.signals`. What a person wrote is sealed under the
    signal's data key (`concord.core.intake.seal`): `sealed` holds the persons, the
    summary as written and the source's name; `summary_sealed` the scrubbed summary.
    Only codes, counts and times travel in clear."""

    id: str
    kind: Kind
    category: Category
    bias: list[Bias]
    severity: int
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    area: str
    location: Location | None = None
    source_type: str
    sealed: str
    summary_sealed: str
    person_count: int = 0
    person_roles: list[str] = Field(default_factory=list)
    language: str
    exercise: bool
    tags: list[str]
    wants: Wants = "act"
    indicators: list[Indicator] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(
        default_factory=list, description="files given with it (in the evidence store)"
    )
    referred_to: str | None = Field(None, description="the competent body it was referred to")

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        """A signal written before 2026-12-06 (`source`, `summary`, `persons_sealed`)
        still reads: its sealed persons are kept, its clear summary is not."""
        if not isinstance(data, dict) or "source_type" in data or "source" not in data:
            return data
        data = dict(data)
        source = data.pop("source")
        data["source_type"] = source.get("type", "other") if isinstance(source, dict) else "other"
        data["sealed"] = data.pop("persons_sealed", None) or ""
        data.pop("summary", None)
        data.setdefault("summary_sealed", "")
        return data
