"""Which playbooks a situation matches, and why the others do not. Pure: no Faust, no I/O.

A playbook matches a situation when its `when` holds for one of the situation's signals
(see `View`): what happened is read from that signal, the area's figures from the
situation.

The index: for each field that rules most playbooks out (category, kind, bias, area,
drill or not), every value maps to a bitset (a Python int) of the playbooks that
require it, plus one bitset of the playbooks that do not constrain the field. A
situation's candidates are the AND over fields of (OR of its values' bitsets | free
bitset): a handful of big-int operations, whatever the number of playbooks. Only the
candidates are then checked condition by condition. A requirement is read from the
top-level `when` and from `all` blocks (and from `any` blocks when every branch gives
one); `not` blocks are never indexed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from concord.config.directory import Directory
from concord.playbooks.conditions import (
    WEEKDAYS,
    Threshold,
    TimeWindow,
    Trend,
    When,
    format_duration,
)
from concord.playbooks.schema import Playbook
from concord.streams.situations import SignalRef, Situation

Dimension = Callable[[When], Iterable[str]]

#: Indexed fields: how a `when` block constrains them (empty = not at all).
_DIMENSIONS: dict[str, Dimension] = {
    "category": lambda w: (str(c) for c in w.category),
    "kind": lambda w: (str(k) for k in w.kind),
    "bias": lambda w: (str(b) for b in w.bias),
    "exercise": lambda w: {"only": ["yes"], "exclude": ["no"]}.get(w.exercise, []),
}


class View:
    """What the conditions look at: a situation and one of its signals, the *trigger*.

    Conditions on what happened (kind, category, bias, severity, area, tags, source
    type, local time) read the trigger; conditions on the situation and its area (drill,
    threshold, trend) read the situation. A playbook matches when its `when` holds for
    at least one trigger, so it fires only on what one report establishes: a tension
    signal's severity or another incident's category are never borrowed.
    """

    def __init__(self, s: Situation, tz: ZoneInfo, ref: SignalRef | None = None) -> None:
        self.situation = s
        self.tz = tz
        self.ref = ref if ref is not None else s.signals[-1]
        self.severity = self.ref.severity
        self.area = self.ref.area or s.area

    @classmethod
    def of(cls, s: Situation, tz: ZoneInfo) -> View:
        """The view of the situation's latest signal."""
        return cls(s, tz)

    # Computed when a condition asks (most playbooks ask for two or three of them).
    @cached_property
    def kinds(self) -> frozenset[str]:
        """The kinds of the situation's signals."""
        return frozenset({self.ref.kind})

    @cached_property
    def categories(self) -> frozenset[str]:
        """The categories of the situation's signals."""
        return frozenset({self.ref.category})

    @cached_property
    def bias(self) -> frozenset[str]:
        """The bias motivations of the situation's signals."""
        return frozenset(self.ref.bias)

    @cached_property
    def tags(self) -> frozenset[str]:
        """The tags of the situation's signals."""
        return frozenset(self.ref.tags)

    @cached_property
    def source_types(self) -> frozenset[str]:
        """The source types of the situation's signals."""
        return frozenset({self.ref.source_type})

    @cached_property
    def local(self) -> datetime:
        """The trigger's time in the city's time zone."""
        return self.ref.occurred_at.astimezone(self.tz)


class Union:
    """Every value any signal of a situation has, per indexed field (for the index only)."""

    def __init__(self, s: Situation) -> None:
        self.situation = s

    def values(self, dimension: str) -> Iterable[str]:
        """The values of one dimension (`kinds`, `categories`, ...)."""
        s, refs = self.situation, self.situation.signals
        if dimension == "category":
            return {r.category for r in refs}
        if dimension == "kind":
            return {r.kind for r in refs}
        if dimension == "bias":
            return {b for r in refs for b in r.bias}
        if dimension == "area":
            return {r.area or s.area for r in refs}
        return ("yes" if s.exercise else "no",)


def in_window(window: TimeWindow, local: datetime) -> bool:
    """Whether a local time falls in the window (see `TimeWindow`)."""
    now, day = local.time(), WEEKDAYS[local.weekday()]
    start, end = window.start, window.end
    if start < end:
        return day in window.days and start <= now < end
    if start == end:  # the whole day
        return day in window.days
    yesterday = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    return (now >= start and day in window.days) or (now < end and yesterday in window.days)


class Matcher:
    """An index over a set of playbooks, built once per (re)load."""

    def __init__(self, playbooks: Iterable[Playbook], directory: Directory) -> None:
        self.directory = directory
        self.tz = ZoneInfo(directory.city.timezone)
        self.playbooks = sorted((p for p in playbooks if p.enabled), key=lambda p: p.id)
        self.by_id = {p.id: p for p in self.playbooks}
        self._areas: dict[int, frozenset[str]] = {}  # id(when) -> area codes
        for pb in self.playbooks:
            for w in pb.when.walk():
                if w.areas:
                    codes: set[str] = set()
                    for name in w.areas:
                        codes |= directory.areas_in(name)
                    self._areas[id(w)] = frozenset(codes)
        dimensions: dict[str, Dimension] = {
            **_DIMENSIONS,
            "area": lambda w: self._areas.get(id(w), frozenset()),
        }
        self._index = [self._build(name, fn) for name, fn in dimensions.items()]
        self._all = (1 << len(self.playbooks)) - 1
        # One spec per figure: playbooks that share a threshold share its computation.
        unique = {s.key: s for pb in self.playbooks for s in pb.when.window_specs()}
        self.specs: list[Threshold | Trend] = list(unique.values())
        self._span = max((s.span() for s in self.specs), default=timedelta(0))

    def _build(self, name: str, fn: Dimension) -> tuple[str, dict[str, int], int]:
        postings: dict[str, int] = {}
        free = 0
        for bit, pb in enumerate(self.playbooks):
            required = _required(pb.when, fn)
            if required is None:
                free |= 1 << bit
                continue
            for value in required:
                postings[value] = postings.get(value, 0) | (1 << bit)
        return name, postings, free

    def history_span(self) -> timedelta:
        """How much area history the thresholds and trends in force need."""
        return self._span

    def candidates(self, view: Union) -> Iterator[Playbook]:
        """Playbooks the index cannot rule out, in id order."""
        mask = self._all
        for name, postings, free in self._index:
            allowed = free
            for value in view.values(name):
                allowed |= postings.get(value, 0)
            mask &= allowed
            if not mask:
                return
        while mask:
            low = mask & -mask
            yield self.playbooks[low.bit_length() - 1]
            mask ^= low

    def matches(self, situation: Situation) -> list[tuple[Playbook, list[str]]]:
        """The enabled playbooks whose `when` holds for the situation, in id order, each
        with the signals it holds for (its triggers, in the situation's order)."""
        if not situation.signals:
            return []
        views: list[View] | None = None  # built once a playbook needs them
        out: list[tuple[Playbook, list[str]]] = []
        for pb in self.candidates(Union(situation)):
            if views is None:
                views = [View(situation, self.tz, ref) for ref in situation.signals]
            triggers = [v.ref.id for v in views if self._fails(pb.when, v, top=True) is None]
            if triggers:
                out.append((pb, triggers))
        return out

    def match(self, situation: Situation) -> list[Playbook]:
        """The enabled playbooks whose `when` holds for the situation, in id order."""
        return [pb for pb, _ in self.matches(situation)]

    def explain(self, playbook: Playbook, situation: Situation) -> str | None:
        """Why `playbook` does not match (the first condition that fails for the latest
        signal), or None when it matches."""
        if not playbook.enabled:
            return "disabled"
        views = [View(situation, self.tz, ref) for ref in reversed(situation.signals)]
        reasons = [self._fails(playbook.when, v, top=True) for v in views]
        if any(r is None for r in reasons):
            return None
        return reasons[0] if reasons else "no signal"

    def _fails(self, w: When, v: View, top: bool = False) -> str | None:
        s = v.situation
        wants = w.wants or ("act" if top else "any")
        if wants != "any" and v.ref.wants != wants:
            return f"the reporter wants {v.ref.wants!r} (wants: {wants})"
        if w.exercise == "only" and not s.exercise:
            return "not a drill (exercise: only)"
        if w.exercise == "exclude" and s.exercise:
            return "a drill (exercise: exclude)"
        if w.kind and not v.kinds & set(w.kind):
            return f"kind {sorted(v.kinds)} not in {list(w.kind)}"
        if w.category and not v.categories & set(w.category):
            return f"category {sorted(v.categories)} not in {list(w.category)}"
        if w.bias and not v.bias & set(w.bias):
            return f"bias {sorted(v.bias)} not in {list(w.bias)}"
        if (why := w.severity.fails(v.severity)) is not None:
            return why
        if id(w) in self._areas and v.area not in self._areas[id(w)]:
            return f"area {v.area!r} not in {w.areas}"
        if w.tags and not set(w.tags) <= v.tags:
            return f"tags {sorted(set(w.tags) - v.tags)} missing"
        if w.source_types and not v.source_types & set(w.source_types):
            return f"source types {sorted(v.source_types)} not in {w.source_types}"
        if w.time and not any(in_window(t, v.local) for t in w.time):
            return f"local time {v.local:%a %H:%M} outside the time windows"
        if w.threshold and (why := threshold_fails(w.threshold, s.measures)):
            return why
        if w.trend and (why := trend_fails(w.trend, s.measures)):
            return why
        for child in w.all_:
            if (why := self._fails(child, v)) is not None:
                return f"all: {why}"
        if w.any_ and all(self._fails(child, v) is not None for child in w.any_):
            return "any: no branch holds"
        if w.not_ is not None and self._fails(w.not_, v) is None:
            return "not: the excluded condition holds"
        return None


def _required(w: When, fn: Dimension) -> frozenset[str] | None:
    """Values one of which a situation must have for `w` to hold; None = unconstrained."""
    own: frozenset[str] | None = frozenset(fn(w)) or None
    for child in w.all_:
        need = _required(child, fn)
        if need is not None:
            own = need if own is None else own & need
    if w.any_:
        branches = [_required(child, fn) for child in w.any_]
        if all(b is not None for b in branches):
            union = frozenset().union(*(b for b in branches if b is not None))
            own = union if own is None else own & union
    return own


def threshold_fails(spec: Threshold, figures: dict[str, list[int]]) -> str | None:
    """Why the threshold does not hold, or None."""
    value = figures.get(spec.key)
    if value is None:
        return "threshold: no figures yet (the playbook changed after the last signal)"
    if value[0] < spec.count:
        per = f" for one {spec.per_tag_prefix}* tag" if spec.per_tag_prefix else ""
        window = format_duration(spec.within)
        return f"threshold: {value[0]} signal(s){per} within {window}, needs {spec.count}"
    return None


def trend_fails(spec: Trend, figures: dict[str, list[int]]) -> str | None:
    """Why the trend does not hold, or None."""
    value = figures.get(spec.key)
    if value is None:
        return "trend: no figures yet (the playbook changed after the last signal)"
    earlier, recent, n = value
    if n < spec.min_signals:
        return f"trend: {n} signal(s) over {format_duration(spec.over)}, needs {spec.min_signals}"
    rising = recent > earlier
    if (spec.direction == "rising") != rising or recent == earlier:
        return f"trend: not {spec.direction} ({spec.by} {earlier} then {recent})"
    return None
