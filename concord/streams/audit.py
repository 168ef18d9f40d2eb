"""Who did what, and what could not be processed: `concord.audit` and `concord.deadletter`."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import AliasChoices, AwareDatetime, Field, model_validator

from concord.common.types import Strict, utcnow

#: The stages of the flow, each named after its agent module (`concord/agents/<stage>.py`).
#: These labels are what `/metrics`, dead letters and `CONCORD_FAULT_STALL_STAGE` use.
Stage = Literal["intake", "capin", "correlate", "plan", "gate", "track", "deliver", "publish"]
STAGES: tuple[Stage, ...] = get_args(Stage)


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
    # `str`, not `Stage`: dead letters written before a stage was renamed still read.
    stage: str = Field("intake", description="the stage that could not process the record")
    key: str | None = Field(None, description="the record's key, as sent")
    at: AwareDatetime = Field(default_factory=utcnow)


class AuditEntry(Strict):
    """Every transition: who, what, when (`concord.audit`)."""

    at: AwareDatetime = Field(default_factory=utcnow)
    actor: str
    action: str
    subject: str
    via: str | None = Field(
        None, validation_alias=AliasChoices("via", "channel"), description="how the actor acted"
    )
    details: dict[str, str] = Field(default_factory=dict)


class AuditRecord(Strict):
    """One record of `concord.audit`: the entries one stage made while handling one
    batch of records (or one request), in order. A stage's entries go in one record because an
    audit record per entry was a fifth of every record the flow wrote.

    Records written before 2026-12-06 hold one bare `AuditEntry`; they read as a record
    of that one entry."""

    entries: list[AuditEntry] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _bare_entry(cls, data: Any) -> Any:
        if isinstance(data, dict) and "entries" not in data and "action" in data:
            return {"entries": [data]}
        return data

    @property
    def key(self) -> str:
        """The record's key: its first entry's subject."""
        return self.entries[0].subject
