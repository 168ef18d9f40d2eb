"""Situations: the snapshots of `concord.situations` (written by the correlation stage
only) and the commands that change them (`concord.situation-commands`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from concord.common.text import FreeText
from concord.common.types import Strict, utcnow
from concord.streams.signals import Bias, Category, Indicator, Kind, Wants


class SituationState(StrEnum):
    """A situation's lifecycle: open, under review, responding, monitoring, closed."""

    open = "open"
    under_review = "under_review"
    responding = "responding"
    monitoring = "monitoring"
    closed = "closed"


class SignalRef(Strict):
    """A signal as the situation keeps it: no persons, not even sealed; its scrubbed
    summary sealed under the signal's data key (gone with an erasure)."""

    id: str
    kind: Kind
    category: Category
    severity: int
    occurred_at: AwareDatetime
    source_type: str
    summary_sealed: str | None = Field(None, description="the scrubbed summary, sealed")
    #: Before 2026-12-06 a situation kept the scrubbed summary in clear: an older
    #: snapshot (an archive, a topic) still reads, but the text is never written again
    #: nor shown (`exclude`): the next snapshot of the situation drops it.
    summary: str | None = Field(None, exclude=True, description="legacy: never written")
    area: str | None = Field(None, description="where it happened (None: the situation's)")
    bias: list[Bias] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    received_at: AwareDatetime | None = Field(None, description="when Concord got the report")
    wants: Wants = Field("act", description="register: the reporter asked for no follow-up")
    indicators: list[Indicator] = Field(default_factory=list, description="bias indicators")


class Analysis(Strict):
    """The situation's analysis: its version and text."""

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
    repeats: list[str] = Field(
        default_factory=list,
        description="fired: later signals its conditions held for again (the `per` rule "
        "of the playbook says who is told)",
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


class SituationCommand(Strict):
    """A change to a situation from outside correlation (`concord.situation-commands`).

    Keyed like `concord.signals` (by correlation zone), so the correlation stage, the
    single writer of situations, applies it in order with the signals of the same zone.
    """

    situation_id: str
    key: str = Field(description="the area-state key the situation lives under")
    #: `plan`: plan the situation again (a plan stage's dead letter, replayed after a fix)
    action: Literal["state", "merge", "split", "plan"]
    to: SituationState | None = None
    other: str | None = Field(None, description="merge: the situation absorbed")
    signals: list[str] = Field(default_factory=list, description="split: the signals moved out")
    actor: str
    reason: str = ""
    at: AwareDatetime = Field(default_factory=utcnow)


class SituationChangeIn(Strict):
    """`POST /api/situations/{id}/state|split|merge` (coordinators)."""

    to: SituationState | None = None
    signals: list[str] = Field(default_factory=list, max_length=500)
    other: str | None = None
    reason: FreeText = Field("", max_length=4000)
