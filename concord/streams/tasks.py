"""Tasks: their snapshots (`concord.task-state`), every change of a task
(`concord.task-events`, keyed by task id, so one worker applies a task's changes in order
and is the only writer of its snapshots) and the track stage's table."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, AwareDatetime, Field

from concord.common.text import FreeText
from concord.common.types import Strict, utcnow
from concord.streams.signals import Category
from concord.streams.votes import ReviewStamp


class TaskState(StrEnum):
    """A task's state (see `concord.core.tasks` for the moves between them)."""

    pending = "pending"
    assigned = "assigned"
    acknowledged = "acknowledged"
    declined = "declined"
    escalated = "escalated"
    reassigned = "reassigned"
    done = "done"
    cancelled = "cancelled"
    failed = "failed"


class TaskText(Strict):
    """A task's title and action in one language."""

    title: str
    action: str


class Task(Strict):
    """A task for one agency (its snapshots are on `concord.task-state`)."""

    id: str
    situation_id: str
    playbook_id: str
    playbook_version: int
    playbook_revision: str = Field("", description="digest of the playbook file")
    task_key: str = Field(description="the task's id inside its playbook")
    agency: str
    assignee: str | None = Field(None, description="liaison id")
    state: TaskState = TaskState.pending
    title: str
    action: str = Field(description="rendered action text, already redacted")
    translations: dict[str, TaskText] = Field(
        default_factory=dict, description="title and action in other languages"
    )
    due: AwareDatetime | None = None
    urgent: bool = False
    depends_on: list[str] = Field(default_factory=list, description="task ids to finish first")
    release_on_decline: bool = Field(False, description="released when a prerequisite declines")
    remind_before: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: list[str] = Field(default_factory=list)
    fallback: str | None = Field(None, description="agency that gets the task when declined")
    channels: list[str] = Field(default_factory=list)
    area: str = Field(description="where its latest trigger happened")
    occurred_at: AwareDatetime | None = Field(None, description="when its latest trigger happened")
    areas: list[str] = Field(
        default_factory=list, description="where each signal it answers happened"
    )
    signals: list[str] = Field(
        default_factory=list,
        description="the signals it answers (its playbook's triggers): whose persons it shows",
    )
    category: Category
    severity: int
    exercise: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deliveries: list[str] = Field(default_factory=list, description="channels that delivered")
    awaiting: Literal["panel"] | None = Field(None, description="held: what it waits for")
    review: ReviewStamp | None = Field(None, description="the panel decision that released it")

    def text(self, language: str) -> TaskText:
        """Title and action in `language`, else in the default language."""
        return self.translations.get(language) or TaskText(title=self.title, action=self.action)


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
    "repeat",  # its playbook's conditions held again for a later signal of the situation
]
#: How someone acted: a Slack button, an email link, a page, the API, or Concord itself.
Via = Literal["slack", "email", "web", "api", "concord"]
#: The actions people take, and who may take them.
PEOPLE_ACTIONS = ("ack", "decline", "done")


class TaskEvent(Strict):
    """Something that happens to a task (`concord.task-events`, keyed by task id)."""

    task_id: str
    action: EventAction
    actor: str = "concord"
    # "channel" before 2026-12: records written then still read.
    via: Via = Field("concord", validation_alias=AliasChoices("via", "channel"))
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
    signal: str | None = Field(None, description="repeat: the signal it held again for")
    area: str | None = Field(None, description="repeat: where that signal happened")
    occurred_at: AwareDatetime | None = Field(None, description="repeat: when it happened")


class TaskActionIn(Strict):
    """`POST /api/tasks/{id}/ack|decline|done|reassign`: what a person adds to an action."""

    reason: FreeText | None = Field(None, max_length=4000, description="required to decline")
    assignee: str | None = Field(None, max_length=64, description="reassign: the liaison")


class Step(Strict):
    """One transition in a task's history."""

    at: AwareDatetime
    action: str
    actor: str
    via: str = Field(validation_alias=AliasChoices("via", "channel"))
    before: str
    after: str
    assignee: str | None = None
    reason: str | None = None


#: The track stage's table: its changelog is also what the read model reads of tasks.
TASKS_TABLE = "tasks"


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
