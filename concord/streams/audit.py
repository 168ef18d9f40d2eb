"""Who did what, and what could not be processed: `concord.audit` and `concord.deadletter`."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from concord.common.types import Strict, utcnow


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
