"""The expert panel's review: the models of `concord.review-events` and `concord.reviews`.

A review belongs to one situation (keyed by its id). It holds every version of the
situation analysis, each with the playbooks proposed and the tasks they would create,
every vote, and where the review stands. The tasks are held back until the panel
approves (or, for urgent tasks, until the time limit).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    model_validator,
)

from concord.common.text import FreeText
from concord.common.types import Code, Strict, utcnow
from concord.streams.situations import Situation
from concord.streams.tasks import Task
from concord.streams.votes import Decision, Vote, missing_reason


class AddedTask(Strict):
    """A task the panel adds to the response."""

    agency: Code
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    action: Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
    urgent: StrictBool = False
    due_hours: StrictFloat | None = Field(None, gt=0, le=24 * 90)


class Amendment(Strict):
    """What an `amend` vote changes; the result is a new analysis version."""

    severity: StrictInt | None = Field(None, ge=1, le=5, description="the panel's severity")
    add_playbooks: list[Code] = Field(default_factory=list, description="propose these too")
    remove_playbooks: list[Code] = Field(default_factory=list, description="no longer propose")
    drop_tasks: list[str] = Field(
        default_factory=list, description="task keys (or ids) not to send"
    )
    add_tasks: list[AddedTask] = Field(default_factory=list, max_length=20)
    note: FreeText = Field("", max_length=4000, description="shown with the analysis")

    @model_validator(mode="after")
    def _changes_something(self) -> Amendment:
        if not (
            self.severity
            or self.add_playbooks
            or self.remove_playbooks
            or self.drop_tasks
            or self.add_tasks
            or self.note.strip()
        ):
            raise ValueError(
                "an amendment must change something (severity, playbooks, tasks or a note)"
            )
        return self


class VoteIn(Strict):
    """`POST /api/reviews/{situation_id}/votes`."""

    decision: Decision
    # Strict, as every number a person sends: "2" or true is a mistake to name.
    version: StrictInt = Field(ge=1)
    reason: FreeText = Field("", max_length=4000)
    amendment: Amendment | None = None

    @model_validator(mode="after")
    def _amendment_with_amend(self) -> VoteIn:
        if self.decision == Decision.amend and self.amendment is None:
            raise ValueError("an amend vote needs an `amendment`")
        if self.decision != Decision.amend and self.amendment is not None:
            raise ValueError("only an amend vote takes an `amendment`")
        missing = missing_reason(self.decision, self.reason)
        if missing:
            raise ValueError(missing)
        return self


AtLimit = Literal["hold", "urgent_only"]

#: A review's rules when the playbook does not say (a playbook the panel added has none).
DEFAULT_QUORUM = 2
DEFAULT_TIME_LIMIT = timedelta(hours=1)
DEFAULT_AT_LIMIT: AtLimit = "hold"


class Proposal(Strict):
    """A playbook proposed for the situation, with the tasks it would create."""

    playbook: str
    version: int
    revision: str = ""
    title: str
    quorum: int = Field(DEFAULT_QUORUM, ge=1)
    time_limit: timedelta
    at_limit: AtLimit = DEFAULT_AT_LIMIT
    tasks: list[Task]


class AnalysisVersion(Strict):
    """One version of the situation analysis: what the panel votes on."""

    version: int = Field(ge=1)
    at: AwareDatetime
    by: str = Field(description="`concord`, or the panel member who amended")
    severity: int
    proposals: list[Proposal]
    notes: list[str] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list, description="what this version changed")

    def tasks(self) -> list[Task]:
        """Every task of every proposal."""
        return [t for p in self.proposals for t in p.tasks]


Outcome = Literal["pending", "approved", "rejected", "no_quorum"]


class ReviewRecord(Strict):
    """A situation's review (`concord.reviews`, compacted, keyed by situation id)."""

    situation_id: str
    area: str
    exercise: bool = False
    situation: Situation = Field(description="the situation as last proposed")
    opened_at: AwareDatetime
    versions: list[AnalysisVersion] = Field(min_length=1)
    votes: list[Vote] = Field(default_factory=list)
    outcome: Outcome = "pending"
    decided_at: AwareDatetime | None = None
    deadline: AwareDatetime | None = Field(None, description="when the time limit acts next")
    reminders: int = 0
    released: list[str] = Field(default_factory=list, description="task ids sent out")
    cancelled: list[str] = Field(default_factory=list, description="task ids never to send")
    approvals: list[str] = Field(default_factory=list)
    rejections: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    dissent: list[Vote] = Field(default_factory=list)
    told: int | None = Field(
        None,
        description="the latest version the panel was told of (None in a record kept "
        "before this was: taken as the latest)",
    )
    told_at: AwareDatetime | None = Field(None, description="when the panel was last told")
    tell_at: AwareDatetime | None = Field(
        None,
        description="when the panel is told of the version signals that joined since "
        "made (held back by the amend interval)",
    )
    updated_at: AwareDatetime

    @property
    def current(self) -> AnalysisVersion:
        """The analysis version under review now."""
        return self.versions[-1]

    @property
    def version(self) -> int:
        """The number of the current analysis version."""
        return self.current.version

    @property
    def quorum(self) -> int:
        """The approvals needed (of the members who can vote)."""
        return max((p.quorum for p in self.current.proposals), default=1)

    @property
    def time_limit(self) -> timedelta:
        """How long the panel has, from the review's opening."""
        return min((p.time_limit for p in self.current.proposals), default=timedelta(hours=1))


class ReviewEvent(Strict):
    """Something that happens to a review (`concord.review-events`, keyed by situation id).

    - `open`: a playbook that needs review fired (`situation`, `proposal`);
    - `vote`: a panel member voted (`vote`, and for `amend` the resolved `amended` version);
    - `tick`: the time limit fell due (`deadline` names the deadline it is for, so a
      late or repeated tick does nothing);
    - `joined`: a signal joined the situation (`situation`, as it is now).
    """

    situation_id: str
    kind: Literal["open", "vote", "tick", "joined"]
    at: AwareDatetime = Field(default_factory=utcnow)
    situation: Situation | None = None
    proposal: Proposal | None = None
    vote: Vote | None = None
    amendment: Amendment | None = None
    deadline: AwareDatetime | None = None
