"""Correlation: one signal's step through the areas of its zone. Pure.

A signal joins an open situation of its area, or of a neighbouring area, when it
occurred within the correlation window of that situation's latest signal, its category
is compatible (see `GROUPS`) and so is its motivation (see `same_motive`); among
several, the one with the most recent signal. Otherwise it opens a new situation in its
own area. Drills never mix with real situations: they live under keys of their own
(`area_key`).

`step` is the whole stage, in the order a reader follows it:

1. find the situation the signal joins (`pick`), or open one (`correlate`);
2. the signal enters its own area's history (`concord.core.history`);
3. the situation's figures: the area's measures for thresholds and trends, its tension
   (`concord.core.tension`) and what its area saw around it (`context`);
4. which playbooks fire (`concord.core.decisions`);
5. the states that changed, by key: the signal's own area, and the home area of the
   situation it joined when that is a neighbour.

What a situation is made of: its `categories`, `kinds`, `bias` and `tags` are those of
all its signals; its `severity` is that of its incidents (`severity_of`). Playbooks do
not match on these unions: they match one signal at a time (`concord.playbooks.matcher`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import Field

from concord.common.types import Strict
from concord.core.decisions import Rules, decide, prune
from concord.core.history import Trace, measure, remember
from concord.core.tension import tension
from concord.streams.signals import Bias, Category, Kind, Signal
from concord.streams.situations import (
    AreaContext,
    PastSituation,
    SignalRef,
    Situation,
    SituationState,
)

#: Earlier situations an area remembers for the analysis.
PREVIOUS_CAP = 20
#: Open situations an area keeps besides its current one (for joins and commands).
OTHERS_CAP = 20
RECALL = timedelta(days=90)


def area_key(area: str, exercise: bool) -> str:
    """The key of an area's state (drills apart): where its situations live."""
    return f"{area}|{'exercise' if exercise else 'real'}"


class AreaState(Strict):
    """The `area-state` table's value, keyed by `area_key` (`area|real`, `area|exercise`)."""

    situation: Situation | None = None
    history: list[Trace] = Field(default_factory=list)
    fired: dict[str, datetime] = Field(
        default_factory=dict, description="playbook id -> when it last fired in this area"
    )
    others: list[Situation] = Field(
        default_factory=list, description="the area's other open situations (not closed)"
    )
    previous: list[PastSituation] = Field(
        default_factory=list, description="earlier situations of the area, newest last"
    )

    def find(self, situation_id: str) -> Situation | None:
        """The area's situation with this id (current or other), or None."""
        for s in self.open():
            if s.id == situation_id:
                return s
        return None

    def seen(self, signal_id: str) -> bool:
        """Whether this area has correlated the signal already."""
        return self.holding(signal_id) is not None

    def holding(self, signal_id: str) -> Situation | None:
        """The area's situation the signal is in, or None."""
        for s in self.open():
            if any(r.id == signal_id for r in s.signals):
                return s
        return None

    def open(self) -> list[Situation]:
        """The area's situations that may still be joined or changed."""
        return [s for s in [self.situation, *self.others] if s is not None]


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
        source_type=signal.source_type,
        summary_sealed=signal.summary_sealed,
        area=signal.area,
        bias=list(signal.bias),
        tags=list(signal.tags),
        received_at=signal.received_at,
        wants=signal.wants,
        indicators=list(signal.indicators),
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


#: Motivations the city links for correlation (the directory's `correlation.linked_bias`):
#: each group is a set of biases that may share a situation.
Links = tuple[frozenset[Bias], ...]


#: Every motivation linked to every other: motivation does not keep anything apart.
ALL: Links = (frozenset(Bias),)


def same_motive(situation: list[Bias], signal: list[Bias], linked: Links = ()) -> bool:
    """Whether a signal with these bias motivations may join a situation with those.

    Different motivations are different situations: an antisemitic vandalism and an
    anti-Muslim assault in one area are two responses, two analyses, two sets of
    partners. A signal that names no motivation (a rumour, a report whose reporter could
    not tell) may join any situation, and a situation with none yet takes any signal.
    Otherwise they must share a motivation, or two of theirs must be linked by the city
    (`linked`)."""
    if not situation or not signal:
        return True
    kin = set(situation)
    for group in linked:
        if kin & group:
            kin |= group
    return any(b in kin for b in signal)


def joins(current: Situation | None, signal: Signal, window: timedelta, linked: Links = ()) -> bool:
    """Whether the signal belongs to this situation."""
    if current is None or current.state == SituationState.closed:
        return False
    latest = max(r.occurred_at for r in current.signals)
    in_window = abs(signal.occurred_at - latest) <= window
    return (
        in_window
        and compatible(current.categories, signal.category)
        and same_motive(current.bias, list(signal.bias), linked)
    )


def pick(
    candidates: list[Situation], signal: Signal, window: timedelta, linked: Links = ()
) -> Situation | None:
    """The situation the signal joins: the joinable one with the latest signal, or None."""
    joinable = [s for s in candidates if joins(s, signal, window, linked)]
    return max(joinable, key=lambda s: s.latest_at, default=None)


def correlate(
    current: Situation | None,
    signal: Signal,
    window: timedelta,
    now: datetime,
    linked: Links = (),
) -> Situation:
    """The situation after `signal`: the current one updated, or a new one."""
    if current is not None and any(r.id == signal.id for r in current.signals):
        return current
    if current is None or not joins(current, signal, window, linked):
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


def _others(
    state: AreaState, candidates: list[Situation], current: Situation, at: datetime
) -> tuple[list[Situation], list[PastSituation]]:
    """The open situations kept besides `current`, and the earlier ones remembered."""
    keep: list[Situation] = []
    gone: list[Situation] = []
    for s in candidates:
        if s.id == current.id:
            continue
        recent = at - s.latest_at < RECALL
        (keep if s.state != SituationState.closed and recent else gone).append(s)
    keep.sort(key=lambda s: s.latest_at)
    gone += keep[:-OTHERS_CAP]
    keep = keep[-OTHERS_CAP:]
    return keep, [*state.previous, *_past(gone)][-PREVIOUS_CAP:]


def _past(situations: list[Situation]) -> list[PastSituation]:
    return [
        PastSituation(
            id=s.id,
            opened_at=min(r.occurred_at for r in s.signals),
            severity=s.severity,
            categories=s.categories,
            state=s.state,
            signals=len(s.signals),
        )
        for s in situations
    ]


def context(
    history: list[Trace], previous: list[PastSituation], situation: Situation
) -> AreaContext:
    """Signals in the area over the last week (two halves) and 90 days; earlier situations."""
    at = situation.latest_at
    own = {r.id for r in situation.signals}
    week = [t for t in history if at - timedelta(days=7) < t.at <= at]
    middle = at - timedelta(days=3.5)
    return AreaContext(
        week_earlier=sum(1 for t in week if t.at <= middle),
        week_recent=sum(1 for t in week if t.at > middle),
        signals_90_days=sum(1 for t in history if t.id not in own and at - RECALL < t.at <= at),
        previous=[p for p in previous if at - RECALL < p.opened_at <= at],
    )


@dataclass(frozen=True)
class Step:
    """What one signal changed: area states by key, the situation it is in now, and
    that situation as it was before (None when the signal opened it)."""

    states: dict[str, AreaState]
    situation: Situation | None
    before: Situation | None
    #: open situations the signal would have joined but for its motivation
    apart: tuple[Situation, ...] = ()


def holding(
    load: Callable[[str], AreaState | None], signal: Signal, neighbours: list[str]
) -> Situation | None:
    """The open situation of the signal's zone that holds it (its own area's, or a
    neighbour's it joined), or None: what a signal correlated before is part of now."""
    for area in [signal.area, *neighbours]:
        state = load(area_key(area, signal.exercise))
        found = state.holding(signal.id) if state is not None else None
        if found is not None:
            return found
    return None


def step(
    load: Callable[[str], AreaState | None],
    signal: Signal,
    neighbours: list[str],
    rules: Rules,
    now: datetime,
) -> Step:
    """The signal's step through the areas of its zone (see the module); the states are
    read through `load` (a table, a dict) by `area_key`."""
    own_key = area_key(signal.area, signal.exercise)
    states = {own_key: load(own_key) or AreaState()}
    for area in neighbours:
        key = area_key(area, signal.exercise)
        if (state := load(key)) is not None:
            states[key] = state
    if any(st.seen(signal.id) for st in states.values()):
        return Step({}, None, None)
    homes = {s.id: key for key, st in states.items() for s in st.open()}
    candidates = [s for st in states.values() for s in st.open()]
    joined = pick(candidates, signal, rules.window, rules.linked)
    apart = (
        tuple(s for s in candidates if joins(s, signal, rules.window, ALL) and s is not joined)
        if joined is None
        else ()
    )
    home_key = homes[joined.id] if joined is not None else own_key
    keep = max(rules.window, rules.matcher.history_span(), RECALL)
    own = states[own_key]
    own = own.model_copy(update={"history": remember(own.history, signal, keep, rules.history_cap)})
    home = own if home_key == own_key else states[home_key]
    situation = correlate(joined, signal, rules.window, now, rules.linked)
    at = situation.latest_at
    history = own.history
    if home is not own:  # the figures of the home area, with the signal from next door
        merged = {t.id: t for t in [*home.history, *own.history]}
        history = sorted(merged.values(), key=lambda t: t.at)
    others, previous = _others(home, home.open(), situation, signal.occurred_at)
    situation = situation.model_copy(
        update={
            "measures": measure(history, rules.matcher.specs, at),
            "tension": tension(situation.signals, at),
            "context": context(home.history, _past(others) + previous, situation),
        }
    )
    matches, fired = decide(situation, rules, home.fired)
    situation = situation.model_copy(update={"matches": matches})
    home = home.model_copy(
        update={
            "situation": situation,
            "others": others,
            "previous": previous,
            "fired": prune(fired, rules, at),
        }
    )
    changed = {own_key: own, home_key: home} if home_key != own_key else {own_key: home}
    return Step(changed, situation, joined, apart)
