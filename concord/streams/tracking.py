"""Tasks after planning: the models of `concord.task-events` and the track stage's table.

Every change of a task is an event on `concord.task-events`, keyed by task id, so one
worker applies a task's changes in order and is the only writer of its snapshots on
`concord.task-state`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from concord.streams.models import Strict, Task, utcnow

EventAction = Literal[
    "created",  # planned (held for the panel or dependencies, or ready)
    "release",  # the panel released it (the task carries the review stamp)
    "cancel",  # the panel rejected it, or the situation closed
    "delivered",  # the delivery stage's outcome for the current assignee
    "ack",
    "decline",
    "done",
    "reassign",  # a coordinator gives it to another liaison / agency
    "tick",  # an escalation or reminder deadline passed
    "depend",  # `dependent` waits for this task
    "prerequisite",  # `prerequisite` of this task is done or declined
]
Channel = Literal["slack", "email", "web", "api", "concord"]
#: The actions people take, and who may take them.
PEOPLE_ACTIONS = ("ack", "decline", "done")


class TaskEvent(Strict):
    """Something that happens to a task (`concord.task-events`, keyed by task id)."""

    task_id: str
    action: EventAction
    actor: str = "concord"
    channel: Channel = "concord"
    reason: str | None = Field(None, max_length=4000)
    at: AwareDatetime = Field(default_factory=utcnow)
    task: Task | None = Field(None, description="created / release: the task itself")
    ok: bool | None = Field(None, description="delivered: whether a channel delivered it")
    channels: list[str] = Field(default_factory=list, description="delivered: channels used")
    slack_ref: str | None = Field(None, description="delivered: Slack `channel/ts`")
    assignee: str | None = Field(None, description="reassign: the new liaison")
    deadline: AwareDatetime | None = Field(None, description="tick: the deadline it is for")
    dependent: str | None = Field(None, description="depend: the task that waits")
    prerequisite: str | None = Field(None, description="prerequisite: the task that ended")
    outcome: Literal["done", "declined"] | None = None


class TaskActionIn(Strict):
    """`POST /api/tasks/{id}/ack|decline|done|reassign`: what a person adds to an action."""

    reason: str | None = Field(None, max_length=4000, description="required to decline")
    assignee: str | None = Field(None, max_length=64, description="reassign: the liaison")


class Step(Strict):
    """One transition in a task's history."""

    at: AwareDatetime
    action: str
    actor: str
    channel: str
    before: str
    after: str
    assignee: str | None = None
    reason: str | None = None


class TrackRecord(Strict):
    """The `tasks` table's value: a task and what its timers and dependencies need."""

    task: Task | None = Field(None, description="None until `created` (a stub for early news)")
    dependents: list[str] = Field(default_factory=list)
    prerequisites: dict[str, Literal["done", "declined"]] = Field(default_factory=dict)
    escalate_at: datetime | None = None
    remind_at: datetime | None = None
    assignees: list[str] = Field(default_factory=list, description="everyone it went to")
    slack_refs: dict[str, str] = Field(
        default_factory=dict, description="assignee -> Slack `channel/ts`, to update it"
    )
    notes: list[str] = Field(default_factory=list)
    history: list[Step] = Field(default_factory=list)
