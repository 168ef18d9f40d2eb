"""What an operator's action template sees, and how it is rendered. Pure.

Action texts are jinja2 templates, rendered in a sandbox with StrictUndefined from a
*redacted* view of the situation: no persons, summaries already scrubbed and on one line.
`concord playbooks validate` checks templates with the same functions the planning of a
live task uses.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Template, meta

from concord.common.templating import sandbox
from concord.config.directory import Directory
from concord.playbooks.schema import Playbook, TaskSpec
from concord.streams.situations import SignalRef, Situation


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
    return sandbox().from_string(text)


def render_template(text: str, context: dict[str, Any], task_key: str) -> str:
    """Render one action template the way tasks are rendered (sandboxed, strict)."""
    return _compiled(text).render(**context, task={"id": task_key}).strip()


def parse_template(text: str) -> set[str]:
    """The names a template uses; raises jinja2.TemplateSyntaxError."""
    return meta.find_undeclared_variables(sandbox().parse(text))


def resolve_agency(spec: TaskSpec, directory: Directory) -> str | None:
    """The agency id a task goes to: named, or the first agency with the role."""
    if spec.agency is not None:
        return spec.agency
    found = next((a for a in directory.agencies if a.role == spec.role), None)
    return found.id if found else None
