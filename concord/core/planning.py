"""Planning: the tasks a fired playbook creates for a situation. Pure.

Texts are rendered by `concord.playbooks.templates` from a redacted view of the
situation (no persons).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from concord.config.directory import Directory
from concord.playbooks.schema import FALLBACK_LANGUAGE, Playbook, TaskSpec
from concord.playbooks.templates import (
    places,
    render_template,
    resolve_agency,
    template_context,
    triggers_of,
)
from concord.streams.situations import Situation
from concord.streams.tasks import Task, TaskState, TaskText


def task_id(situation_id: str, playbook_id: str, task_key: str, suffix: str = "") -> str:
    """Deterministic, so a replayed situation never makes a second task. `suffix` names a
    later set of the same playbook's tasks (`@area`, `#signal`: see `repeat`)."""
    key = f"{situation_id}\x00{playbook_id}\x00{task_key}{suffix}"
    return f"task-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def render_texts(spec: TaskSpec, context: dict[str, Any]) -> dict[str, TaskText]:
    """The task's title and rendered action in every language the playbook gives."""
    titles, actions = spec.texts("title"), spec.texts("action")
    out: dict[str, TaskText] = {}
    for lang in sorted(set(titles) | set(actions)):
        action = actions.get(lang, actions[FALLBACK_LANGUAGE])
        out[lang] = TaskText(
            title=titles.get(lang, titles[FALLBACK_LANGUAGE]),
            action=render_template(action, context, spec.id),
        )
    return out


def plan_tasks(
    situation: Situation,
    playbook: Playbook,
    directory: Directory,
    now: datetime,
    revision: str = "",
    signals: list[str] | None = None,
    suffix: str = "",
) -> list[Task]:
    """The tasks of `playbook` for `situation`, for the track stage. `signals`: the
    signals the playbook fired on (its triggers; None: all); a task names where they
    happened and shows only their persons (`Task.signals`). `suffix`: a later set of
    the same playbook's tasks (`repeat`)."""
    context = template_context(situation, playbook, directory, signals)
    refs = triggers_of(situation, signals)
    codes = places(refs, situation, directory)
    tasks: list[Task] = []
    for spec in playbook.tasks:
        agency_id = _agency(spec, directory, playbook.id)
        agency, liaison = directory.agency(agency_id), directory.on_duty(agency_id)
        texts = render_texts(spec, context)
        default = texts.pop(FALLBACK_LANGUAGE)
        tasks.append(
            Task(
                id=task_id(situation.id, playbook.id, spec.id, suffix),
                situation_id=situation.id,
                playbook_id=playbook.id,
                playbook_version=playbook.version,
                playbook_revision=revision,
                task_key=spec.id,
                agency=agency_id,
                assignee=liaison.id if liaison else None,
                # Tasks that wait for others are held (released by the track stage).
                state=TaskState.pending,
                title=default.title,
                action=default.action,
                translations=texts,
                due=now + spec.due if spec.due else None,
                remind_before=spec.remind_before,
                urgent=spec.urgent,
                depends_on=[task_id(situation.id, playbook.id, d, suffix) for d in spec.depends_on],
                release_on_decline=playbook.on_prerequisite_declined == "release",
                escalate_after=spec.escalate_after,
                escalate_to=list(spec.escalate_to),
                fallback=spec.fallback,
                channels=list(spec.channels or (agency.channels if agency else [])),
                area=codes[-1],
                occurred_at=max(r.occurred_at for r in refs),
                areas=codes,
                signals=[r.id for r in refs],
                category=refs[-1].category,
                severity=situation.severity,
                exercise=situation.exercise,
                created_at=now,
                updated_at=now,
            )
        )
    return tasks


def _agency(spec: TaskSpec, directory: Directory, playbook_id: str) -> str:
    agency_id = resolve_agency(spec, directory)
    if agency_id is None:
        raise PlanningError(playbook_id, f"task {spec.id}: no agency with role {spec.role}")
    return agency_id


class PlanningError(Exception):
    """A playbook could not be turned into tasks for this situation (e.g. its template
    uses an attribute the situation does not have). Carries the playbook id."""

    def __init__(self, playbook_id: str, reason: str) -> None:
        super().__init__(f"playbook {playbook_id}: {reason}")
        self.playbook_id = playbook_id
        self.reason = reason


def plan_or_refuse(
    situation: Situation,
    playbook: Playbook,
    directory: Directory,
    now: datetime,
    revision: str = "",
    signals: list[str] | None = None,
    suffix: str = "",
) -> list[Task]:
    """`plan_tasks`, with any rendering failure turned into a PlanningError."""
    try:
        return plan_tasks(situation, playbook, directory, now, revision, signals, suffix)
    except PlanningError:
        raise
    except Exception as exc:  # operators' templates: any error must be reported, not crash
        raise PlanningError(playbook.id, f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Repeat:
    """What a repeat of a fired playbook (a later signal it holds for again) leads to:
    new tasks (`new`, with `suffix` and the `area` they cover), or the existing tasks
    `told` of the signal (updated, their assignees told)."""

    signal: str
    area: str
    new: list[Task]
    told: list[str]
    suffix: str = ""


def area_of(situation: Situation, signal_id: str) -> str:
    """Where one of the situation's signals happened."""
    ref = next((r for r in situation.signals if r.id == signal_id), None)
    return (ref.area if ref else None) or situation.area


def repeat(
    situation: Situation,
    playbook: Playbook,
    signal_id: str,
    covered: str | None,
    directory: Directory,
    now: datetime,
    revision: str = "",
) -> Repeat:
    """The playbook's `per` rule for a repeat: never silent.

    `covered`: the suffix of the task set that covers the signal's area (`""` for the
    first firing's), or None when no set does. `per: situation` tells the first set;
    `per: area` makes a set for an area no set covers yet, else tells the set that
    covers it; `per: signal` makes a set for every repeat."""
    area = area_of(situation, signal_id)
    if playbook.per == "signal":
        suffix = f"#{signal_id}"
    elif playbook.per == "area" and covered is None:
        suffix = f"@{area}"
    else:
        suffix = (covered or "") if playbook.per == "area" else ""
        told = [task_id(situation.id, playbook.id, spec.id, suffix) for spec in playbook.tasks]
        return Repeat(signal_id, area, [], told, suffix)
    tasks = plan_or_refuse(situation, playbook, directory, now, revision, [signal_id], suffix)
    return Repeat(signal_id, area, tasks, [], suffix)
