"""The base of every model and the field types used across Concord, defined once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, StringConstraints


def utcnow() -> datetime:
    """Now, timezone-aware (UTC)."""
    return datetime.now(UTC)


#: An identifier an operator writes: area codes, agency and liaison ids, playbook ids, tags.
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


def _written_time(value: object) -> object:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("must be a date and time as text (ISO 8601, with its offset)")


#: A time someone sends: ISO 8601 text with its offset, never a bare number (seconds or
#: milliseconds since 1970 would be a guess).
SentTime = Annotated[AwareDatetime, BeforeValidator(_written_time)]
#: A language code (ISO 639-1): en, fr, nl, ...
Lang = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class Strict(BaseModel):
    """Every model: unknown fields refused, values immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
