"""An area's recent history, and the figures thresholds and trends compare. Pure.

The correlation stage keeps, per area (drills apart), a short trace of each signal:
when, what kind, category, bias, severity and tags; no text, no source name, no person.
It keeps as much as the longest threshold or trend in force needs (at most `cap`
entries), and after each signal computes every figure the playbooks ask for:

- a threshold's figure is `[n]`: the signals matching its filter within its window
  (with `per_tag_prefix`, the largest count among the tags with that prefix);
- a trend's figure is `[earlier, recent, n]`: the count (or severity sum) in the earlier
  and the later half of its period, and the number of signals in the whole period.

Windows end at the latest signal's `occurred_at`, not at the wall clock, so a replay, a
dry run and an example all give the same figures as the live run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from concord.common.types import Strict
from concord.playbooks.conditions import Threshold, Trend, WindowSpec
from concord.streams.signals import Bias, Category, Kind, Signal


class Trace(Strict):
    """What the area history keeps of one signal."""

    id: str
    at: datetime
    kind: Kind
    category: Category
    bias: list[Bias]
    severity: int
    tags: list[str]


def remember(history: list[Trace], signal: Signal, keep: timedelta, cap: int) -> list[Trace]:
    """The history with `signal` added, trimmed to `keep` before its latest entry and `cap`."""
    if any(t.id == signal.id for t in history):
        return history
    trace = Trace(
        id=signal.id,
        at=signal.occurred_at,
        kind=signal.kind,
        category=signal.category,
        bias=list(signal.bias),
        severity=signal.severity,
        tags=list(signal.tags),
    )
    entries = sorted([*history, trace], key=lambda t: t.at)
    horizon = entries[-1].at - keep
    return [t for t in entries if t.at >= horizon][-cap:]


def _passes(spec: WindowSpec, t: Trace) -> bool:
    return (
        (not spec.kind or t.kind in spec.kind)
        and (not spec.category or t.category in spec.category)
        and (not spec.bias or bool(set(spec.bias) & set(t.bias)))
        and set(spec.tags) <= set(t.tags)
        and t.severity >= spec.min_severity
    )


def _threshold(spec: Threshold, history: list[Trace], at: datetime) -> list[int]:
    since = at - spec.within
    inside = [t for t in history if since < t.at <= at and _passes(spec, t)]
    if spec.per_tag_prefix is None:
        return [len(inside)]
    per_tag = Counter(
        tag for t in inside for tag in set(t.tags) if tag.startswith(spec.per_tag_prefix)
    )
    return [max(per_tag.values(), default=0)]


def _trend(spec: Trend, history: list[Trace], at: datetime) -> list[int]:
    middle, since = at - spec.over / 2, at - spec.over
    earlier = recent = n = 0
    for t in history:
        if not (since < t.at <= at and _passes(spec, t)):
            continue
        weight = 1 if spec.by == "count" else t.severity
        n += 1
        if t.at > middle:
            recent += weight
        else:
            earlier += weight
    return [earlier, recent, n]


def measure(
    history: list[Trace], specs: Iterable[Threshold | Trend], at: datetime
) -> dict[str, list[int]]:
    """Every figure the specs ask for, as of `at`."""
    return {
        spec.key: _threshold(spec, history, at)
        if isinstance(spec, Threshold)
        else _trend(spec, history, at)
        for spec in specs
    }
