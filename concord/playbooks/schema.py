"""The playbook language: pydantic models, from which the JSON Schema is generated.

A playbook says *when* (conditions on a situation) and *what* (tasks for agencies).
Cross-field rules (unique task ids, dependencies that exist and have no cycle) live in
validators; references to the directory (agencies, areas) are checked by the loader.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from concord.common.types import Code, Lang
from concord.playbooks.conditions import (
    Duration,
    Spec,
    When,
    format_duration,
    parse_duration,
)
from concord.streams.delivery import PersonChannel
from concord.streams.reviews import DEFAULT_AT_LIMIT, DEFAULT_QUORUM, AtLimit

__all__ = ["Example", "Playbook", "Review", "Suppress", "TaskSpec", "When", "json_schema"]
__all__ += ["format_duration", "parse_duration"]

Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
#: The language every text must have: the fallback when a liaison's is missing.
FALLBACK_LANGUAGE = "en"


def _has_fallback(value: str | dict[str, str], what: str) -> None:
    if isinstance(value, dict) and FALLBACK_LANGUAGE not in value:
        raise ValueError(f"{what}: per-language texts need an {FALLBACK_LANGUAGE!r} variant")


class TaskSpec(Spec):
    """One task the playbook gives to an agency (named, or found by its role)."""

    id: Code = Field(description="unique inside the playbook")
    agency: Code | None = Field(None, description="agency id from the directory")
    role: Code | None = Field(
        None, description="or an agency role (police, school, ...): the first such agency"
    )
    title: Title | dict[Lang, Title] = Field(
        description="short title; a text, or texts per language ({en: ..., fr: ...})"
    )
    action: str | dict[Lang, str] = Field(
        description="what to do: a jinja2 template with `situation`, `area`, `playbook` and "
        "`task` in scope; a text, or texts per language (`en` is the fallback)"
    )
    due: Duration | None = Field(None, description="time to complete, from dispatch")
    remind_before: Duration | None = Field(None, description="remind this long before `due`")
    urgent: bool = Field(
        False, description="may go out at the panel's time limit before validation"
    )
    depends_on: list[Code] = Field(default_factory=list, description="task ids of this playbook")
    escalate_after: Duration | None = Field(
        None, description="escalate when not acknowledged within this time"
    )
    escalate_to: list[Code] = Field(
        default_factory=list,
        description="after the agency's own chain: liaison ids, agency ids or `coordinator`",
    )
    fallback: Code | None = Field(None, description="agency that gets the task when declined")
    channels: list[PersonChannel] = Field(
        default_factory=list, description="override the agency's channel preference"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.agency is None) == (self.role is None):
            raise ValueError("give exactly one of `agency` and `role`")
        _has_fallback(self.title, "title")
        _has_fallback(self.action, "action")
        if self.remind_before and not self.due:
            raise ValueError("`remind_before` needs a `due`")
        if self.remind_before and self.due and self.remind_before >= self.due:
            raise ValueError("`remind_before` must be shorter than `due`")
        return self

    def texts(self, field: Literal["title", "action"]) -> dict[str, str]:
        """The variants of a text by language (a plain text is the fallback language)."""
        value = getattr(self, field)
        return dict(value) if isinstance(value, dict) else {FALLBACK_LANGUAGE: value}


class Review(Spec):
    """The expert panel validates the situation analysis before the tasks go out."""

    required: bool = Field(True, description="false: no review (same as leaving it out)")
    quorum: int = Field(
        DEFAULT_QUORUM, ge=1, description="approvals needed (conflicts do not count)"
    )
    time_limit: Duration = Field(description="how long the panel has")
    at_limit: AtLimit = Field(
        DEFAULT_AT_LIMIT,
        description="at the limit: keep waiting and remind the panel, or send the tasks "
        "marked `urgent` and keep the rest waiting",
    )


class Suppress(Spec):
    """When not to fire even though `when` holds."""

    same_area_for: Duration | None = Field(
        None, description="do not fire again in the same area within this period"
    )
    inhibits: list[Code] = Field(
        default_factory=list,
        description="playbook ids that do not fire for a situation this playbook matches",
    )


Outcome = Literal["fires", "suppressed", "inhibited", "no_match"]


class Example(Spec):
    """Signals and what this playbook should do with them; `validate` runs every example."""

    name: Title
    start: AwareDatetime | None = Field(
        None, description="time of the first signal (default: a Monday, 12:00 city time)"
    )
    signals: list[dict[str, Any]] = Field(
        min_length=1,
        description="signals as producers send them; `id`, `kind`, `source`, `summary` and "
        "`occurred_at` may be left out; `after: 2h` places a signal after `start`",
    )
    expect: Outcome = Field(description="what this playbook does with the last situation")
    tasks: list[Code] | None = Field(None, description="exactly these task ids are created")


class Playbook(Spec):
    """A response plan: when a situation matches, these tasks go to these agencies."""

    id: Code
    version: int = Field(1, ge=1, description="raise it with every change; stored on tasks")
    title: Title
    description: str = ""
    owner: str = Field("", description="who answers for this playbook")
    enabled: bool = True
    when: When = Field(default_factory=When)
    review: Review | None = Field(None, description="expert panel validation before dispatch")
    suppress: Suppress = Field(default_factory=Suppress)
    on_prerequisite_declined: Literal["hold", "release"] = Field(
        "hold", description="when a task's prerequisite is declined: hold it, or release it"
    )
    per: Literal["situation", "area", "signal"] = Field(
        "situation",
        description="when its conditions hold again for a new signal of a situation it fired "
        "for: `situation` updates its tasks and tells their assignees; `area` makes new "
        "tasks for an area it has none in (else as `situation`); `signal` new tasks for "
        "every such signal",
    )
    tasks: list[TaskSpec] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=list, description="tests run by `validate`")

    @model_validator(mode="after")
    def _tasks_consistent(self) -> Self:
        # "@path: message" lets the loader point at the node (see yamlpos.at_path).
        ids = [t.id for t in self.tasks]
        for i, task_id in enumerate(ids):
            if task_id in ids[:i]:
                raise ValueError(f"@tasks.{i}.id: task id {task_id!r} is used twice")
        for i, task in enumerate(self.tasks):
            for j, dep in enumerate(task.depends_on):
                if dep not in ids:
                    raise ValueError(f"@tasks.{i}.depends_on.{j}: unknown task {dep!r}")
        cycle = find_cycle({t.id: t.depends_on for t in self.tasks})
        if cycle:
            where = ids.index(cycle[0])
            raise ValueError(f"@tasks.{where}.depends_on: dependency cycle: {' -> '.join(cycle)}")
        if self.id in self.suppress.inhibits:
            where = self.suppress.inhibits.index(self.id)
            raise ValueError(f"@suppress.inhibits.{where}: a playbook cannot inhibit itself")
        for i, example in enumerate(self.examples):
            for j, key in enumerate(example.tasks or ()):
                if key not in ids:
                    raise ValueError(f"@examples.{i}.tasks.{j}: unknown task {key!r}")
        return self

    @property
    def needs_review(self) -> bool:
        """Whether the panel must validate before (non-urgent) tasks go out."""
        return self.review is not None and self.review.required


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a playbook file, for editors and `concord playbooks schema`."""
    schema = Playbook.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://concord.example/playbook.schema.json"
    return schema
