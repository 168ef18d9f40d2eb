"""Planning: the tasks a fired playbook creates for a situation. Pure.

Action texts are operators' jinja2 templates, rendered in a sandbox with StrictUndefined
from a *redacted* view of the situation: no persons, summaries already scrubbed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from concord.directory import Directory
from concord.playbooks.schema import Playbook, TaskSpec
from concord.streams.models import Situation, Task, TaskState

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def task_id(situation_id: str, playbook_id: str, task_key: str) -> str:
    """Deterministic, so a replayed situation never makes a second task."""
    digest = hashlib.sha256(f"{situation_id}\x00{playbook_id}\x00{task_key}".encode()).hexdigest()
    return f"task-{digest[:12]}"


def template_context(
    situation: Situation, playbook: Playbook, directory: Directory
) -> dict[str, Any]:
    """What an action template sees."""
    area = directory.area(situation.area)
    return {
        "situation": {
            "id": situation.id,
            "area": situation.area,
            "severity": situation.severity,
            "categories": [str(c) for c in situation.categories],
            "bias": [str(b) for b in situation.bias],
            "signal_count": len(situation.signals),
            "summary": situation.signals[-1].summary if situation.signals else "",
            "exercise": situation.exercise,
        },
        "area": {"code": situation.area, "name": area.name if area else situation.area},
        "playbook": {"id": playbook.id, "title": playbook.title, "version": playbook.version},
    }


def render_action(spec: TaskSpec, context: dict[str, Any]) -> str:
    """Render one task's action text."""
    return _ENV.from_string(spec.action).render(**context, task={"id": spec.id}).strip()


def plan_tasks(
    situation: Situation, playbook: Playbook, directory: Directory, now: datetime
) -> list[Task]:
    """The tasks of `playbook` for `situation`, ready for `concord.tasks`."""
    context = template_context(situation, playbook, directory)
    tasks: list[Task] = []
    for spec in playbook.tasks:
        agency = directory.agency(spec.agency)
        liaison = directory.on_duty(spec.agency)
        tasks.append(
            Task(
                id=task_id(situation.id, playbook.id, spec.id),
                situation_id=situation.id,
                playbook_id=playbook.id,
                playbook_version=playbook.version,
                task_key=spec.id,
                agency=spec.agency,
                assignee=liaison.id if liaison else None,
                # Tasks that wait for others are held (released by the track stage).
                state=TaskState.pending,
                title=spec.title,
                action=render_action(spec, context),
                due=now + spec.due if spec.due else None,
                urgent=spec.urgent,
                depends_on=[task_id(situation.id, playbook.id, d) for d in spec.depends_on],
                channels=list(spec.channels or (agency.channels if agency else [])),
                area=situation.area,
                category=situation.categories[0],
                severity=situation.severity,
                exercise=situation.exercise,
                created_at=now,
                updated_at=now,
            )
        )
    return tasks


class PlanningError(Exception):
    """A playbook could not be turned into tasks for this situation (e.g. its template
    uses an attribute the situation does not have). Carries the playbook id."""

    def __init__(self, playbook_id: str, reason: str) -> None:
        super().__init__(f"playbook {playbook_id}: {reason}")
        self.playbook_id = playbook_id
        self.reason = reason


def plan_or_refuse(
    situation: Situation, playbook: Playbook, directory: Directory, now: datetime
) -> list[Task]:
    """`plan_tasks`, with any rendering failure turned into a PlanningError."""
    try:
        return plan_tasks(situation, playbook, directory, now)
    except PlanningError:
        raise
    except Exception as exc:  # operators' templates: any error must be reported, not crash
        raise PlanningError(playbook.id, f"{type(exc).__name__}: {exc}") from exc


def ready(task: Task) -> bool:
    """Whether a new task may be dispatched now: it waits for no other task.

    Tasks with dependencies stay `pending`; the track stage releases them (issue #5).
    """
    return task.state == TaskState.pending and not task.depends_on
