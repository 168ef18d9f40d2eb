"""What the panel's gate rules (`concord.core.gate.handle`) ask the gate agent to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from concord.core.refusal import Refused
from concord.streams.reviews import ReviewRecord
from concord.streams.situations import SituationState
from concord.streams.tasks import Task


@dataclass(frozen=True)
class Hold:
    """Publish these tasks as waiting for the panel."""

    tasks: list[Task]


@dataclass(frozen=True)
class Release:
    """Send these tasks to dispatch (already stamped)."""

    tasks: list[Task]


@dataclass(frozen=True)
class Cancel:
    """These held tasks will never be sent."""

    tasks: list[Task]
    reason: str


@dataclass(frozen=True)
class MoveSituation:
    """An effect: move the situation to a state (through `concord.situation-commands`)."""

    to: SituationState
    reason: str


NoticeKind = Literal[
    "opened", "amended", "reminder", "approved", "rejected", "no_quorum", "stalled"
]


@dataclass(frozen=True)
class Notify:
    """Tell the panel (and for `no_quorum` the coordinators)."""

    kind: NoticeKind
    version: int


Effect = Hold | Release | Cancel | MoveSituation | Notify | Refused
Result = tuple[ReviewRecord | None, list[Effect]]
