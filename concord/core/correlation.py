"""Correlation: group signals of one area within a time window into a situation. Pure.

A signal joins an open situation of its area when it occurred within `window` of that
situation's latest signal and its category is compatible with the situation's (see
`GROUPS`); among several, the one with the most recent signal. Otherwise it opens a new
situation. Drills never mix with real situations (they live under another key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from concord.streams.models import Category, Kind, Signal, SignalRef, Situation, SituationState


def correlation_key(area: str, exercise: bool) -> str:
    """The key signals and situation commands of an area travel under (drills apart)."""
    return f"{area}|{'exercise' if exercise else 'real'}"


def situation_key(signal: Signal) -> str:
    """The table key of the area's current situation (drills kept apart)."""
    return correlation_key(signal.area, signal.exercise)


def situation_id(first_signal_id: str, area: str) -> str:
    """Deterministic, so that re-processing after a crash yields the same situation."""
    digest = hashlib.sha256(f"{area}\x00{first_signal_id}".encode()).hexdigest()
    return f"sit-{digest[:12]}"


def _ref(signal: Signal) -> SignalRef:
    return SignalRef(
        id=signal.id,
        kind=signal.kind,
        category=signal.category,
        severity=signal.severity,
        occurred_at=signal.occurred_at,
        source_type=signal.source.type,
        summary=signal.summary,
        area=signal.area,
        bias=list(signal.bias),
        tags=list(signal.tags),
    )


def severity_of(refs: Iterable[SignalRef]) -> int:
    """A situation's severity: the highest of its incidents.

    Tension signals (rumours, a demonstration announced) measure tension, not harm: they
    count in the tension score, and set the severity only while the situation has no
    incident yet. So a rumour at 5 never makes a minor incident a severe situation.
    """
    refs = list(refs)
    incidents = [r.severity for r in refs if r.kind == Kind.incident]
    return max(incidents or [r.severity for r in refs] or [1])


T = TypeVar("T")


def _union(a: list[T], b: list[T]) -> list[T]:
    return a + [x for x in b if x not in a]


#: Categories that may belong to one situation. Street violence, hate speech, rumours
#: and demonstrations feed each other in an area within a day; a pattern of
#: discrimination (housing, jobs, services) is handled as its own situation.
GROUPS: tuple[frozenset[Category], ...] = (
    frozenset(Category) - {Category.discrimination},
    frozenset({Category.discrimination, Category.other}),
)


def compatible(categories: list[Category], category: Category) -> bool:
    """Whether a signal of `category` may join a situation with `categories`."""
    return any(category in g and any(c in g for c in categories) for g in GROUPS)


def joins(current: Situation | None, signal: Signal, window: timedelta) -> bool:
    """Whether the signal belongs to this situation."""
    if current is None or current.state == SituationState.closed:
        return False
    latest = max(r.occurred_at for r in current.signals)
    in_window = abs(signal.occurred_at - latest) <= window
    return in_window and compatible(current.categories, signal.category)


def pick(candidates: list[Situation], signal: Signal, window: timedelta) -> Situation | None:
    """The situation the signal joins: the joinable one with the latest signal, or None."""
    joinable = [s for s in candidates if joins(s, signal, window)]
    return max(joinable, key=lambda s: s.latest_at, default=None)


def correlate(
    current: Situation | None, signal: Signal, window: timedelta, now: datetime
) -> Situation:
    """The situation after `signal`: the current one updated, or a new one."""
    if current is not None and any(r.id == signal.id for r in current.signals):
        return current
    if current is None or not joins(current, signal, window):
        return Situation(
            id=situation_id(signal.id, signal.area),
            area=signal.area,
            areas=[signal.area],
            severity=signal.severity,
            kinds=[signal.kind],
            categories=[signal.category],
            bias=list(signal.bias),
            tags=list(signal.tags),
            signals=[_ref(signal)],
            opened_at=now,
            updated_at=now,
            exercise=signal.exercise,
            last_signal=signal.id,
        )
    refs = [*current.signals, _ref(signal)]
    return current.model_copy(
        update={
            "severity": severity_of(refs),
            "kinds": _union(current.kinds, [signal.kind]),
            "categories": _union(current.categories, [signal.category]),
            "bias": _union(current.bias, list(signal.bias)),
            "tags": _union(current.tags, list(signal.tags)),
            "areas": _union(current.areas or [current.area], [signal.area]),
            "signals": refs,
            "updated_at": now,
            "last_signal": signal.id,
        }
    )
