"""Load a directory of playbooks, checking every file against the schema and the directory.

All problems of all files are collected in one pass (an operator fixes them at once),
each as `file:line:col: message`: YAML syntax, schema (unknown field, wrong type),
references to the directory, templates, then set-wide rules (duplicate ids, unknown or
circular inhibitions) and finally the playbooks' own examples, run through the real
correlation, matcher and planning. Warnings (a missing translation) do not refuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from concord.config.directory import Directory
from concord.config.yamlpos import Problem, YamlDoc, load_file, validate_doc
from concord.playbooks.references import (
    check_directory_references,
    check_rendering,
    check_templates,
    translation_warnings,
)
from concord.playbooks.schema import Playbook, find_cycle


@dataclass
class PlaybookSet:
    """The playbooks that loaded, and the problems of those that did not."""

    playbooks: list[Playbook] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # playbook id -> file
    revisions: dict[str, str] = field(default_factory=dict)  # playbook id -> file digest
    docs: dict[str, YamlDoc] = field(default_factory=dict)  # playbook id -> parsed file

    @property
    def ok(self) -> bool:
        """Whether the set loaded without problems."""
        return not self.problems

    def summary(self) -> str:
        """`id@version` of every playbook, for logs and the audit."""
        return ", ".join(f"{p.id}@{p.version}" for p in self.playbooks)


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


def revision(path: Path) -> str:
    """A short digest of a playbook file: which edit of it decided (stored on tasks)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return ""


def _load_one(path: Path, directory: Directory, result: PlaybookSet) -> None:
    doc = load_file(path)
    if isinstance(doc, Problem):
        result.problems.append(doc)
        return
    if doc.data is None:
        result.problems.append(doc.problem((), "empty file"))
        return
    problems = (
        check_directory_references(doc, directory)
        + check_templates(doc)
        + check_rendering(doc, directory)
    )
    pb = validate_doc(doc, Playbook)
    if isinstance(pb, list):
        result.problems.extend(sorted(pb + problems, key=lambda p: (p.line, p.col)))
        return
    if pb.id in result.files:
        problems.append(
            doc.problem(("id",), f"playbook id {pb.id!r} also in {result.files[pb.id]}")
        )
    if problems:
        result.problems.extend(sorted(problems, key=lambda p: (p.line, p.col)))
        return
    result.warnings.extend(translation_warnings(doc, pb, directory))
    result.playbooks.append(pb)
    result.files[pb.id] = str(path)
    result.revisions[pb.id] = revision(path)
    result.docs[pb.id] = doc


def _check_inhibitions(result: PlaybookSet) -> None:
    known = {p.id for p in result.playbooks}
    for pb in result.playbooks:
        doc = result.docs[pb.id]
        for i, target in enumerate(pb.suppress.inhibits):
            if target not in known:
                result.problems.append(
                    doc.problem(("suppress", "inhibits", i), f"unknown playbook {target!r}")
                )
    cycle = find_cycle({p.id: list(p.suppress.inhibits) for p in result.playbooks})
    if cycle:
        doc = result.docs[cycle[0]]
        result.problems.append(
            doc.problem(("suppress", "inhibits"), f"inhibition cycle: {' -> '.join(cycle)}")
        )


def load_playbooks(paths: Iterable[Path], directory: Directory) -> PlaybookSet:
    """Load every playbook under `paths`; a file with any problem is left out whole.

    The set is usable only when `ok`: a worker never runs part of a set. The playbooks'
    examples are run by `concord.dryrun.examples.check_playbooks`, which loads through here.
    """
    result = PlaybookSet()
    for path in playbook_files(paths):
        _load_one(path, directory, result)
    _check_inhibitions(result)
    return result
