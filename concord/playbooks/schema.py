"""The playbook language: pydantic models, from which the JSON Schema is generated.

A playbook says *when* (conditions on a situation) and *what* (tasks for agencies).
Cross-field rules (unique task ids, dependencies that exist and have no cycle) live in
validators; references to the directory (agencies, areas) are checked by the loader.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from concord.streams.models import Bias, Category, Kind

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]

_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """'30m', '2h', '1d', '1w' -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    raise ValueError("a duration like '30m', '2h', '1d' or '1w'")


def format_duration(value: timedelta) -> str:
    """timedelta -> the shortest exact '30m' / '2h' / '1d' form."""
    minutes = int(value.total_seconds() // 60)
    for unit, size in (("w", 10080), ("d", 1440), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*(m|h|d|w)\s*$"}),
]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityRange(_M):
    gte: int | None = Field(None, ge=1, le=5, description="at least")
    lte: int | None = Field(None, ge=1, le=5, description="at most")


class When(_M):
    """Conditions on a situation; every condition given must hold (empty lists ignore)."""

    kind: list[Kind] = Field(default_factory=list, description="any of these signal kinds")
    category: list[Category] = Field(default_factory=list, description="any of these categories")
    bias: list[Bias] = Field(default_factory=list, description="any of these bias motivations")
    severity: SeverityRange = Field(default_factory=SeverityRange)
    areas: list[Code] = Field(
        default_factory=list, description="area codes or area groups from the directory"
    )
    tags: list[Code] = Field(default_factory=list, description="all of these tags")
    exercise: Literal["include", "only", "exclude"] = Field(
        "include", description="drills: match them too, only them, or never"
    )


class TaskSpec(_M):
    """One task the playbook gives to an agency."""

    id: Code = Field(description="unique inside the playbook")
    agency: Code = Field(description="agency id from the directory")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    action: str = Field(
        description="what to do: a jinja2 template with `situation`, `area` and `playbook`"
    )
    due: Duration | None = Field(None, description="time to complete, from dispatch")
    urgent: bool = Field(False, description="may go out before the panel's validation")
    depends_on: list[Code] = Field(default_factory=list, description="task ids of this playbook")
    channels: list[Literal["slack", "email"]] = Field(
        default_factory=list, description="override the agency's channel preference"
    )


class Playbook(_M):
    """A response plan: when a situation matches, these tasks go to these agencies."""

    id: Code
    version: int = Field(1, ge=1)
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: str = ""
    owner: str = ""
    enabled: bool = True
    when: When = Field(default_factory=When)
    tasks: list[TaskSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _tasks_consistent(self) -> Self:
        ids = [t.id for t in self.tasks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"task ids must be unique: {dupes}")
        known = set(ids)
        for task in self.tasks:
            missing = set(task.depends_on) - known
            if missing:
                raise ValueError(f"task {task.id!r} depends on unknown tasks {sorted(missing)}")
        cycle = _find_cycle({t.id: t.depends_on for t in self.tasks})
        if cycle:
            raise ValueError(f"dependency cycle: {' -> '.join(cycle)}")
        return self


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
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
