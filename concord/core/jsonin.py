"""JSON from outside, read strictly: every body, form payload and raw record goes through here.

`json.loads` alone accepts too much for the data a city's alert bus takes in, and fails
in ways that are not a clean "bad input" (a `RecursionError` for deep nesting, a
`ValueError` for a 5,000-digit integer). `loads` refuses, with one `JsonError` whose
message says why:

- anything but UTF-8 (`json.loads(bytes)` silently detects UTF-16 and UTF-32),
- duplicate keys in an object (the last one would win, unseen by whoever sent it),
- integers longer than `MAX_INT_DIGITS`, non-finite numbers (`NaN`, `Infinity`, `1e999`),
- nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Deepest nesting accepted (a signal is 3 levels deep; amendments 4).
MAX_DEPTH = 32
#: Longest integer literal accepted (a 64-bit integer has 19 digits and a sign).
MAX_INT_DIGITS = 20


class JsonError(ValueError):
    """The bytes are not JSON Concord accepts; the message says why."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonError(f"integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"number {text[:40]} is out of range")
    return value


def _constant(name: str) -> float:
    raise JsonError(f"{name} is not a number JSON allows")


def _depth(value: Any) -> int:
    """The nesting depth of a decoded value (iterative: no recursion limit)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in item)
    return deepest


def loads(raw: bytes | str) -> Any:
    """Decode JSON strictly (see the module's docstring); raise JsonError."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise JsonError(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except JsonError:
        raise
    except RecursionError as exc:
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep") from exc
    except json.JSONDecodeError as exc:
        raise JsonError(str(exc)) from exc
    except ValueError as exc:  # e.g. Python's own limit on integer digits
        raise JsonError(str(exc)) from exc
    if _depth(value) > MAX_DEPTH:
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep")
    return value
