"""Planning: the tasks a fired playbook creates for a situation. Pure.

Action texts are operators' jinja2 templates, rendered in a sandbox with StrictUndefined
from a *redacted* view of the situation: no persons, summaries already scrubbed.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, Template, meta
from jinja2.sandbox import SandboxedEnvironment

from concord.core.redaction import one_line
from concord.directory import Directory
from concord.playbooks.schema import FALLBACK_LANGUAGE, Playbook, TaskSpec
from concord.streams.models import SignalRef, Situation, Task, TaskState, TaskText

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def task_id(situation_id: str, playbook_id: str, task_key: str) -> str:
    """Deterministic, so a replayed situation never makes a second task."""
    digest = hashlib.sha256(f"{situation_id}\x00{playbook_id}\x00{task_key}".encode()).hexdigest()
    return f"task-{digest[:12]}"


def triggers_of(situation: Situation, signals: list[str] | None) -> list[SignalRef]:
    """The situation's signals a playbook fired on (all of them when not known)."""
    wanted = set(signals or ())
    found = [r for r in situation.signals if r.id in wanted]
    return found or list(situation.signals)


def places(refs: list[SignalRef], situation: Situation, directory: Directory) -> list[str]:
    """The area codes where these signals happened, in order, each once."""
    return list(dict.fromkeys(r.area or situation.area for r in refs))


def template_context(
    situation: Situation,
    playbook: Playbook,
    directory: Directory,
    signals: list[str] | None = None,
) -> dict[str, Any]:
    """What an action template sees: the situation, and where and what the signals the
    playbook fired on (`signals`, its triggers) say happened."""
    refs = triggers_of(situation, signals)
    codes = places(refs, situation, directory)

    def name(code: str) -> str:
        area = directory.area(code)
        return area.name if area else code

    return {
        "situation": {
            "id": situation.id,
            "area": situation.area,
            "severity": situation.severity,
            "categories": [str(c) for c in situation.categories],
            "bias": [str(b) for b in situation.bias],
            "kinds": [str(k) for k in situation.kinds],
            "tags": list(situation.tags),
            "source_types": sorted({r.source_type for r in situation.signals}),
            "signal_count": len(situation.signals),
            # One line: a template puts it inside its own text, where a line break from
            # a report could pose as a line of Concord's.
            "summary": one_line(refs[-1].summary) if refs else "",
            "exercise": situation.exercise,
        },
        # Where it happened: the triggers' areas (not the home of the situation they joined).
        "area": {"code": codes[-1], "name": ", ".join(name(x) for x in codes)},
        "areas": [{"code": x, "name": name(x)} for x in codes],
        "playbook": {"id": playbook.id, "title": playbook.title, "version": playbook.version},
    }


@functools.lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    # Compiling a template costs more than rendering it: playbooks have few texts.
    return _ENV.from_string(text)


def render_template(text: str, context: dict[str, Any], task_key: str) -> str:
    """Render one action template the way tasks are rendered (sandboxed, strict)."""
    return _compiled(text).render(**context, task={"id": task_key}).strip()


def parse_template(text: str) -> set[str]:
    """The names a template uses; raises jinja2.TemplateSyntaxError."""
    return meta.find_undeclared_variables(_ENV.parse(text))


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


def resolve_agency(spec: TaskSpec, directory: Directory) -> str | None:
    """The agency id a task goes to: named, or the first agency with the role."""
    if spec.agency is not None:
        return spec.agency
    found = next((a for a in directory.agencies if a.role == spec.role), None)
    return found.id if found else None


def plan_tasks(
    situation: Situation,
    playbook: Playbook,
    directory: Directory,
    now: datetime,
    revision: str = "",
    signals: list[str] | None = None,
) -> list[Task]:
    """The tasks of `playbook` for `situation`, for the track stage.

    `signals`: the signals the playbook fired on (its triggers; None: all). A task names
    where they happened and shows only their persons (`Task.signals`)."""
    context = template_context(situation, playbook, directory, signals)
    refs = triggers_of(situation, signals)
    codes = places(refs, situation, directory)
    tasks: list[Task] = []
    for spec in playbook.tasks:
        agency_id = resolve_agency(spec, directory)
        if agency_id is None:
            raise PlanningError(playbook.id, f"task {spec.id}: no agency with role {spec.role}")
        agency = directory.agency(agency_id)
        liaison = directory.on_duty(agency_id)
        texts = render_texts(spec, context)
        default = texts.pop(FALLBACK_LANGUAGE)
        tasks.append(
            Task(
                id=task_id(situation.id, playbook.id, spec.id),
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
                depends_on=[task_id(situation.id, playbook.id, d) for d in spec.depends_on],
                release_on_decline=playbook.on_prerequisite_declined == "release",
                escalate_after=spec.escalate_after,
                escalate_to=list(spec.escalate_to),
                fallback=spec.fallback,
                channels=list(spec.channels or (agency.channels if agency else [])),
                area=codes[-1],
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
) -> list[Task]:
    """`plan_tasks`, with any rendering failure turned into a PlanningError."""
    try:
        return plan_tasks(situation, playbook, directory, now, revision, signals)
    except PlanningError:
        raise
    except Exception as exc:  # operators' templates: any error must be reported, not crash
        raise PlanningError(playbook.id, f"{type(exc).__name__}: {exc}") from exc
