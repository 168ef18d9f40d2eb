"""Load a directory of playbooks, checking every file against the schema and the directory.

All problems of all files are collected in one pass (an operator fixes them at once),
each as `file:line:col: message`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2 import meta

from concord.directory import Directory
from concord.playbooks.schema import Playbook
from concord.playbooks.yamlpos import Problem, YamlDoc, load_file, validate_doc

#: Names a task's action template may use.
TEMPLATE_NAMES = frozenset({"situation", "area", "playbook", "task"})


@dataclass
class PlaybookSet:
    """The playbooks that loaded, and the problems of those that did not."""

    playbooks: list[Playbook] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # playbook id -> file

    @property
    def ok(self) -> bool:
        return not self.problems


def playbook_files(paths: Iterable[Path]) -> list[Path]:
    """The .yml/.yaml files named, or found in the directories named, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p for p in sorted(path.iterdir()) if p.suffix in (".yml", ".yaml") and p.is_file()
            )
        else:
            out.append(path)
    return out


def _check_references(doc: YamlDoc, pb: Playbook, directory: Directory) -> list[Problem]:
    problems: list[Problem] = []
    known_areas = {a.code for a in directory.areas} | set(directory.area_groups)
    for i, code in enumerate(pb.when.areas):
        if code not in known_areas:
            problems.append(doc.problem(("when", "areas", i), f"unknown area or group {code!r}"))
    env = jinja2.Environment()
    for i, task in enumerate(pb.tasks):
        if directory.agency(task.agency) is None:
            problems.append(doc.problem(("tasks", i, "agency"), f"unknown agency {task.agency!r}"))
        try:
            names = meta.find_undeclared_variables(env.parse(task.action))
        except jinja2.TemplateSyntaxError as exc:
            line, col = doc.where(("tasks", i, "action"))
            # Block scalars start on the next line; jinja counts lines from 1.
            problems.append(
                Problem(doc.file, line + exc.lineno - 1, col, f"template syntax: {exc.message}")
            )
            continue
        unknown = sorted(names - TEMPLATE_NAMES)
        if unknown:
            problems.append(
                doc.problem(
                    ("tasks", i, "action"),
                    f"unknown template variable(s) {unknown}; use {sorted(TEMPLATE_NAMES)}",
                )
            )
    return problems


def load_playbooks(paths: Iterable[Path], directory: Directory) -> PlaybookSet:
    """Load every playbook under `paths`; a file with any problem is left out whole."""
    result = PlaybookSet()
    for path in playbook_files(paths):
        doc = load_file(path)
        if isinstance(doc, Problem):
            result.problems.append(doc)
            continue
        if doc.data is None:
            result.problems.append(doc.problem((), "empty file"))
            continue
        pb = validate_doc(doc, Playbook)
        if isinstance(pb, list):
            result.problems.extend(pb)
            continue
        problems = _check_references(doc, pb, directory)
        if pb.id in result.files:
            problems.append(
                doc.problem(("id",), f"playbook id {pb.id!r} also in {result.files[pb.id]}")
            )
        if problems:
            result.problems.extend(problems)
            continue
        result.playbooks.append(pb)
        result.files[pb.id] = str(path)
    return result
