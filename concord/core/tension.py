"""A situation's tension level, from its signals. Pure.

The score adds up what each signal says, weighed by how sure and how recent it is, then
rewards corroboration by different kinds of sources:

    weight(signal)  = severity x reliability(source type) x 0.5 ** (age / half_life)
    score           = sum of weights x spread
    spread          = 1 + 0.25 x (distinct source types - 1), at most 2

- severity: 1-5, as reported;
- reliability: police 1.0, school 0.9, ngo 0.9, monitoring 0.8, public 0.6, anything
  else 0.7 (a report from an institution that saw it is surer than an anonymous one;
  a single public report still counts);
- age: from the signal's `occurred_at` to the evaluation time; half-life 3 days, so a
  week-old signal weighs about a fifth;
- spread: the same thing reported by police, a school and an NGO is more certain than
  three reports from one source.

Levels: score < 4 `low`, < 8 `moderate`, < 15 `high`, otherwise `critical`. One fresh
severity-4 report from the police is `moderate`; two independent fresh severity-4
reports (police and an NGO) are `high`; three from three kinds of sources are `critical`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from concord.streams.situations import Level, SignalRef, Tension

RELIABILITY: dict[str, float] = {
    "police": 1.0,
    "school": 0.9,
    "ngo": 0.9,
    "monitoring": 0.8,
    "public": 0.6,
}
DEFAULT_RELIABILITY = 0.7
HALF_LIFE = timedelta(days=3)
LEVELS: tuple[tuple[float, Level], ...] = ((4.0, "low"), (8.0, "moderate"), (15.0, "high"))


def reliability(source_type: str) -> float:
    """How much a report from this kind of source is trusted (0-1)."""
    return RELIABILITY.get(source_type, DEFAULT_RELIABILITY)


def weight(signal: SignalRef, at: datetime) -> float:
    """One signal's contribution at time `at` (future signals count as fresh)."""
    age = max(timedelta(0), at - signal.occurred_at)
    decay = float(0.5 ** (age / HALF_LIFE))
    return signal.severity * reliability(signal.source_type) * decay


def tension(signals: Iterable[SignalRef], at: datetime) -> Tension:
    """The tension of a situation made of `signals`, evaluated at `at`."""
    refs = list(signals)
    sources = {r.source_type for r in refs}
    spread = min(2.0, 1 + 0.25 * max(0, len(sources) - 1))
    score = round(sum(weight(r, at) for r in refs) * spread, 2)
    level: Level = "critical"
    for bound, name in LEVELS:
        if score < bound:
            level = name
            break
    return Tension(score=score, level=level)
