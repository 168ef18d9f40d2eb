"""A report from the public, an NGO or a school (`POST /api/reports`, the `/report` form).

It is not a topic of its own: `concord.core.reports.to_signal` turns it into a signal
that enters intake like any other (ECCAR commitments 1 and 4: third-party reporting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from concord.common.text import FreeText
from concord.common.types import Code, Lang, SentTime, Strict, utcnow
from concord.streams.signals import (
    EARLIEST,
    FUTURE_TOLERANCE,
    Bias,
    Category,
    Indicator,
    Wants,
)

#: Who is reporting: the person it happened to, someone who saw it, someone on behalf
#: of another person, or an organisation (third-party reporting).
ReporterRole = Literal["victim", "witness", "on_behalf", "organisation"]
Short = Annotated[FreeText, StringConstraints(max_length=200, strip_whitespace=True)]


class ReportIn(Strict):
    """What a reporter sends. Anonymous unless they consent to be contacted."""

    category: Category
    summary: Annotated[FreeText, StringConstraints(min_length=1, max_length=4000)]
    area: Code
    place: Short = Field("", description="a street, a school, a stop: optional")
    occurred_at: SentTime
    bias: list[Bias] = Field(default_factory=list, max_length=len(Bias))
    reporter_role: ReporterRole
    organisation: Short = Field("", description="the organisation reporting, if one")
    language: Lang = "en"
    consent_to_contact: StrictBool = False
    contact: Short = Field(
        "", description="email or phone: only with consent_to_contact", validate_default=True
    )
    consent_to_share: StrictBool = Field(
        False, description="agencies may see the contact (asked apart from contact)"
    )
    wants: Wants = Field(
        "act", description="act: follow it up; register: count it only, no task, no contact"
    )
    refer: StrictBool = Field(False, description="pass it to the body competent for it")
    indicators: list[Indicator] = Field(
        default_factory=list, max_length=len(Indicator), description="bias indicators"
    )
    url: Annotated[FreeText, StringConstraints(max_length=2000, strip_whitespace=True)] = Field(
        "", description="online hate: where it was seen (kept as text, never fetched)"
    )
    platform: Annotated[FreeText, StringConstraints(max_length=100, strip_whitespace=True)] = Field(
        "", description="online hate: the site or app"
    )
    seen_at: SentTime | None = Field(None, description="online hate: when it was seen")

    @field_validator("occurred_at")
    @classmethod
    def _when(cls, value: datetime) -> datetime:
        if value < EARLIEST:
            raise ValueError("occurred_at must not be before 1970-01-01")
        if value > utcnow() + FUTURE_TOLERANCE:
            raise ValueError("occurred_at must not be in the future")
        return value

    @field_validator("seen_at")
    @classmethod
    def _seen(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > utcnow() + FUTURE_TOLERANCE:
            raise ValueError("seen_at must not be in the future")
        return value

    @field_validator("wants")
    @classmethod
    def _uncontacted(cls, value: str, info: ValidationInfo) -> str:
        if value == "register" and info.data.get("consent_to_contact"):
            raise ValueError(
                "a report only registered is counted, not followed up: no contact "
                "(wants: act for that)"
            )
        return value

    @field_validator("refer")
    @classmethod
    def _unreferred(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("wants") == "register":
            raise ValueError(
                "a report only registered is counted, not referred (wants: act for that)"
            )
        return value

    @field_validator("contact")
    @classmethod
    def _consent(cls, value: str, info: ValidationInfo) -> str:
        consent = info.data.get("consent_to_contact", False)
        if value and not consent:
            raise ValueError("a contact is kept only with consent_to_contact")
        if consent and not value:
            raise ValueError("consent_to_contact needs a contact (email or phone)")
        return value
