"""Triage: what came in but could not be placed (`concord.triage`, compacted, by id).

A CAP alert whose area names none of the directory's (or none at all) is not dropped:
it waits here until a coordinator places it (`/board/triage`), then it goes through
intake like any signal and its record is deleted (a tombstone). What a person wrote is
sealed, as everywhere: the signal's producer JSON, under a data key of its own subject.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from concord.common.types import Strict, utcnow
from concord.streams.signals import Category, Kind


class TriageItem(Strict):
    """A signal waiting for a coordinator to say where it happened."""

    id: str = Field(description="the signal's id, once placed")
    origin: str = Field(description="where it came from: cap, email")
    source: str = Field(description="who sent it (a CAP sender, a partner)")
    reason: str = Field(description="why it waits, e.g. the area named matches none")
    place: str = Field("", description="what it said of the place (a CAP areaDesc)")
    kind: Kind
    category: Category
    severity: int
    occurred_at: AwareDatetime
    exercise: bool = False
    sealed: str = Field(description="the signal as its producer sent it, sealed")
    received_at: AwareDatetime = Field(default_factory=utcnow)
