"""YAML with positions: validation errors point at `file:line:col` of the offending node.

PyYAML's composer gives every node a start mark; we build plain Python data from the
node tree and, beside it, a map from each path (tuple of keys and indexes) to the mark
of its value and of its key. A pydantic error's `loc` is then looked up in that map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

PathKey = tuple[int | str, ...]


@dataclass(frozen=True)
class Problem:
    """One error with its place: printed as `file:line:col: message`."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class YamlDoc:
    """A parsed YAML document: `data` plus the positions of its nodes."""

    def __init__(self, file: str, data: Any, marks: dict[PathKey, tuple[int, int]]) -> None:
        self.file = file
        self.data = data
        self.marks = marks

    def where(self, path: Iterable[int | str]) -> tuple[int, int]:
        """Line and column (1-based) of the deepest node on `path` that exists."""
        key: PathKey = tuple(path)
        while key and key not in self.marks:
            key = key[:-1]
        return self.marks.get(key, (1, 1))

    def problem(self, path: Iterable[int | str], message: str) -> Problem:
        """A problem at the position of `path` in the file."""
        line, col = self.where(path)
        return Problem(self.file, line, col, message)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _build(node: yaml.Node, path: PathKey, marks: dict[PathKey, tuple[int, int]]) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = _scalar(knode)
            # An unknown key is reported at the key itself, not at its value.
            marks[(*path, key, "__key__")] = (
                knode.start_mark.line + 1,
                knode.start_mark.column + 1,
            )
            out[key] = _build(vnode, (*path, key), marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), marks) for i, item in enumerate(node.value)]
    return _scalar(node)


def parse_yaml(text: str, file: str) -> YamlDoc | Problem:
    """Parse one YAML document, or return the syntax error with its place."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Problem(file, line, col, f"YAML syntax: {exc.problem or exc}")
    except yaml.YAMLError as exc:
        return Problem(file, 1, 1, f"YAML: {exc}")
    marks: dict[PathKey, tuple[int, int]] = {}
    data = _build(node, (), marks) if node is not None else None
    return YamlDoc(file, data, marks)


def load_file(path: Path) -> YamlDoc | Problem:
    """Read and parse a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Problem(str(path), 1, 1, f"cannot read: {exc.strerror}")
    except UnicodeDecodeError:
        return Problem(str(path), 1, 1, "not UTF-8 text")
    return parse_yaml(text, str(path))


def _message(err: Any, prefix: PathKey = ()) -> str:
    loc = ".".join(str(p) for p in (*prefix, *err["loc"]) if not str(p).startswith("function-"))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {err['loc'][-1]!r}"
    elif err["type"] == "missing":
        msg = f"missing field {err['loc'][-1]!r}"
    return f"{loc}: {msg}" if loc else msg


_AT = re.compile(r"^(?:Value error, )?@([\w.-]+): (.*)$", re.DOTALL)


def at_path(msg: str) -> tuple[PathKey, str]:
    """A cross-field validator's `@tasks.2.depends_on: message` -> (path, message)."""
    match = _AT.match(msg)
    if not match:
        return (), msg
    parts = tuple(int(p) if p.isdigit() else p for p in match.group(1).split("."))
    return parts, match.group(2)


def validation_problems(doc: YamlDoc, exc: ValidationError, prefix: PathKey = ()) -> list[Problem]:
    """Turn pydantic's errors into positioned problems."""
    out: list[Problem] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        extra, msg = at_path(err["msg"])
        if extra:
            at: PathKey = (*prefix, *loc, *extra)
            out.append(doc.problem(at, ".".join(map(str, at)) + ": " + msg))
            continue
        path: PathKey = (*prefix, *loc)
        if err["type"] == "extra_forbidden" and (*path, "__key__") in doc.marks:
            line, col = doc.marks[(*path, "__key__")]
            out.append(Problem(doc.file, line, col, _message(err, prefix)))
        else:
            out.append(doc.problem(path, _message(err, prefix)))
    return out


M = TypeVar("M", bound=BaseModel)


def validate_doc(
    doc: YamlDoc, model: type[M], context: dict[str, Any] | None = None
) -> M | list[Problem]:
    """Validate a document against a model; problems carry file:line:col."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        return validation_problems(doc, exc)
