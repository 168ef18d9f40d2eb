"""Checks of a playbook file against the directory and the template rules.

They read the raw YAML data, not the validated model, so that they run even when the
file has schema errors: an operator sees every problem of a file in one run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jinja2

from concord.config.directory import Directory
from concord.config.yamlpos import PathKey, Problem, YamlDoc
from concord.playbooks.schema import Playbook, Review
from concord.playbooks.templates import (
    parse_template,
    render_template,
    resolve_agency,
    template_context,
)
from concord.streams.situations import SignalRef, Situation

#: Names a task's action template may use.
TEMPLATE_NAMES = frozenset({"situation", "area", "playbook", "task"})


def _walk_when(data: Any, path: PathKey) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    if not isinstance(data, dict):
        return
    yield path, data
    for key in ("all", "any"):
        children = data.get(key)
        if isinstance(children, list):
            for i, child in enumerate(children):
                yield from _walk_when(child, (*path, key, i))
    if isinstance(data.get("not"), dict):
        yield from _walk_when(data["not"], (*path, "not"))


def _strings(value: Any) -> list[tuple[PathKey, str]]:
    """A text or per-language texts, with their sub-paths."""
    if isinstance(value, str):
        return [((), value)]
    if isinstance(value, dict):
        return [((k,), v) for k, v in value.items() if isinstance(v, str)]
    return []


def _tasks(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    tasks = data.get("tasks")
    if not isinstance(tasks, list):
        return []
    return [(i, t) for i, t in enumerate(tasks) if isinstance(t, dict)]


def check_directory_references(doc: YamlDoc, directory: Directory) -> list[Problem]:
    """Areas, agencies, roles and escalation targets that the directory does not know."""
    data = doc.data
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    areas = {a.code for a in directory.areas} | set(directory.area_groups)
    for path, when in _walk_when(data.get("when"), ("when",)):
        for i, code in enumerate(when.get("areas") or []):
            if isinstance(code, str) and code not in areas:
                problems.append(doc.problem((*path, "areas", i), f"unknown area or group {code!r}"))
    agencies = {a.id for a in directory.agencies}
    roles = {a.role for a in directory.agencies}
    liaisons = {li.id for a in directory.agencies for li in a.liaisons}
    for i, task in _tasks(data):
        for key, known, what in (
            ("agency", agencies, "agency"),
            ("fallback", agencies, "fallback agency"),
            ("role", roles, "agency role (no agency in the directory has it)"),
        ):
            value = task.get(key)
            if isinstance(value, str) and value not in known:
                problems.append(doc.problem(("tasks", i, key), f"unknown {what} {value!r}"))
        for j, target in enumerate(task.get("escalate_to") or []):
            if isinstance(target, str) and target not in agencies | liaisons | {"coordinator"}:
                problems.append(
                    doc.problem(
                        ("tasks", i, "escalate_to", j),
                        f"unknown escalation target {target!r}: a liaison id, an agency id "
                        "or `coordinator`",
                    )
                )
    review = data.get("review")
    default = Review.model_fields["quorum"].default
    quorum = review.get("quorum", default) if isinstance(review, dict) else None
    if isinstance(quorum, int) and quorum > len(directory.panel.members):
        problems.append(
            doc.problem(
                ("review", "quorum"),
                f"quorum {quorum} is more than the {len(directory.panel.members)} panel members",
            )
        )
    return problems


def check_templates(doc: YamlDoc) -> list[Problem]:
    """Template syntax errors and names a template may not use."""
    problems: list[Problem] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for i, task in _tasks(data):
        for sub, text in _strings(task.get("action")):
            path = ("tasks", i, "action", *sub)
            try:
                names = parse_template(text)
            except jinja2.TemplateSyntaxError as exc:
                line, col = doc.where(path)
                # Block scalars start on the next line; jinja counts lines from 1.
                problems.append(
                    Problem(doc.file, line + exc.lineno - 1, col, f"template syntax: {exc.message}")
                )
                continue
            unknown = sorted(names - TEMPLATE_NAMES)
            if unknown:
                problems.append(
                    doc.problem(
                        path,
                        f"unknown template variable(s) {unknown}; use {sorted(TEMPLATE_NAMES)}",
                    )
                )
    return problems


def sample_situation() -> Situation:
    """A situation with every field set, to try templates on."""
    at = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    return Situation(
        id="sit-sample",
        area="sample",
        severity=3,
        kinds=["incident"],
        categories=["hate_crime"],
        bias=["other"],
        tags=["sample"],
        signals=[
            SignalRef(
                id="s",
                kind="incident",
                category="hate_crime",
                severity=3,
                occurred_at=at,
                source_type="ngo",
            )
        ],
        opened_at=at,
        updated_at=at,
        last_signal="s",
    )


def _names(context: dict[str, Any]) -> str:
    """What each template variable offers, for an error message."""
    return "; ".join(
        f"{name} has {', '.join(value)}"
        for name, value in context.items()
        if isinstance(value, dict)
    )


def check_rendering(doc: YamlDoc, directory: Directory) -> list[Problem]:
    """Render every action on a sample situation: catches `situation.street` and the like.

    Works on the raw data, so it runs even when the file has schema errors.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    stand_in = Playbook.model_construct(
        id=str(data.get("id", "")),
        title=str(data.get("title", "")),
        version=data.get("version", 1),
        tasks=[],
    )
    context = template_context(sample_situation(), stand_in, directory)
    problems: list[Problem] = []
    for i, task in _tasks(data):
        for sub, text in _strings(task.get("action")):
            try:
                render_template(text, context, str(task.get("id")))
            except jinja2.TemplateSyntaxError:
                continue  # reported by check_templates
            except jinja2.UndefinedError as exc:
                problems.append(
                    doc.problem(("tasks", i, "action", *sub), f"template: {exc}; {_names(context)}")
                )
            except Exception as exc:  # operators' templates: report whatever fails
                problems.append(doc.problem(("tasks", i, "action", *sub), f"template: {exc}"))
    return problems


def translation_warnings(doc: YamlDoc, pb: Playbook, directory: Directory) -> list[Problem]:
    """Tasks whose liaisons read a language the task has no text in (English is sent)."""
    out: list[Problem] = []
    for i, spec in enumerate(pb.tasks):
        agency_id = resolve_agency(spec, directory)
        agency = directory.agency(agency_id) if agency_id else None
        if agency is None:
            continue
        have = set(spec.texts("action"))
        missing = sorted({li.language for li in agency.liaisons} - have)
        if missing:
            out.append(
                doc.problem(
                    ("tasks", i, "action"),
                    f"warning: no {'/'.join(missing)} text for {agency.id}'s liaisons; "
                    "they get the English text",
                )
            )
    return out
