"""One signal's step through its area: correlate, update the history, decide. Pure.

The correlation stage owns everything that is per area: the area's current situation,
its recent history (for thresholds and trends) and when each playbook last fired there
(for `suppress.same_area_for`). So it also decides which playbooks fire, are
suppressed or are inhibited; the match stage turns fired playbooks into tasks.
Decisions are recorded on the situation (`matches`), with the reason, so the board, the
dry run and the examples can say why a playbook did not fire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from concord.core.correlation import (
    correlate,
    correlation_key,
    pick,
    situation_key,
)
from concord.core.history import Trace, measure, remember
from concord.core.tension import tension
from concord.playbooks.conditions import format_duration
from concord.playbooks.matcher import Matcher
from concord.streams.models import (
    AreaContext,
    PastSituation,
    PlaybookMatch,
    Signal,
    Situation,
    SituationState,
    Strict,
)

#: Most signals an area's history keeps (a few a day for 90 days fits).
HISTORY_CAP = 500
#: Earlier situations an area remembers for the analysis.
PREVIOUS_CAP = 20
#: Open situations an area keeps besides its current one (for joins and commands).
OTHERS_CAP = 20
RECALL = timedelta(days=90)


class AreaState(Strict):
    """The `area-state` table's value, keyed `area|real` or `area|exercise`."""

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
        for s in [self.situation, *self.others]:
            if s is not None and s.id == situation_id:
                return s
        return None

    def seen(self, signal_id: str) -> bool:
        return any(
            r.id == signal_id for s in [self.situation, *self.others] if s for r in s.signals
        )


@dataclass(frozen=True)
class Rules:
    """What the step needs from the playbooks in force."""

    matcher: Matcher
    window: timedelta
    revisions: dict[str, str] = field(default_factory=dict)
    history_cap: int = HISTORY_CAP


def decide(
    situation: Situation, rules: Rules, fired: dict[str, datetime]
) -> tuple[list[PlaybookMatch], dict[str, datetime]]:
    """Which playbooks fire for the situation now; the area's `fired` map after that.

    A playbook fires once per situation. A matching playbook is *inhibited* when another
    one that matches (or already fired for this situation) lists it in
    `suppress.inhibits`; it is *suppressed* when it fired in the same area less than
    `suppress.same_area_for` ago. Earlier decisions that are not revisited are kept.
    """
    at = situation.latest_at
    decisions = {m.playbook: m for m in situation.matches}
    done = {pid for pid, m in decisions.items() if m.status == "fired"}
    found = {pb.id: triggers for pb, triggers in rules.matcher.matches(situation)}
    matched = [rules.matcher.by_id[pid] for pid in found if pid not in done]
    inhibited_by: dict[str, str] = {}
    for source in sorted(done | {pb.id for pb in matched}):
        pb = rules.matcher.by_id.get(source)
        for target in pb.suppress.inhibits if pb else ():
            inhibited_by.setdefault(target, source)
    fired = dict(fired)
    for pb in matched:
        status: Literal["fired", "suppressed", "inhibited"] = "fired"
        reason = ""
        last = fired.get(pb.id)
        period = pb.suppress.same_area_for
        if pb.id in inhibited_by:
            status, reason = "inhibited", f"inhibited by {inhibited_by[pb.id]}"
        elif period and last is not None and abs(at - last) < period:
            status = "suppressed"
            reason = (
                f"fired in {situation.area} at {last.isoformat()}; "
                f"quiet for {format_duration(period)} (suppress.same_area_for)"
            )
        else:
            fired[pb.id] = at
        earlier = decisions.get(pb.id)
        if earlier is not None and (earlier.status, earlier.reason) == (status, reason):
            continue  # the same decision as before: keep it (and its time)
        decisions[pb.id] = PlaybookMatch(
            playbook=pb.id,
            version=pb.version,
            revision=rules.revisions.get(pb.id, ""),
            status=status,
            reason=reason,
            at=at,
            signals=found[pb.id],
        )
    return sorted(decisions.values(), key=lambda m: m.playbook), fired


def step(state: AreaState, signal: Signal, rules: Rules, now: datetime) -> AreaState:
    """The area's state after `signal` (its situation carries figures and decisions)."""
    if state.seen(signal.id):
        return state
    candidates = [s for s in [state.situation, *state.others] if s is not None]
    joined = pick(candidates, signal, rules.window)
    situation = correlate(joined, signal, rules.window, now)
    keep = max(rules.window, rules.matcher.history_span(), RECALL)
    history = remember(state.history, signal, keep, rules.history_cap)
    others, previous = _others(state, candidates, situation, signal.occurred_at)
    at = situation.latest_at
    situation = situation.model_copy(
        update={
            "measures": measure(history, rules.matcher.specs, at),
            "tension": tension(situation.signals, at),
            "context": context(history, _past(others) + previous, situation),
        }
    )
    matches, fired = decide(situation, rules, state.fired)
    return AreaState(
        situation=situation.model_copy(update={"matches": matches}),
        others=others,
        history=history,
        fired=_prune(fired, rules, situation.latest_at),
        previous=previous,
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


def _prune(fired: dict[str, datetime], rules: Rules, at: datetime) -> dict[str, datetime]:
    """Forget firings no suppression period can still reach."""
    out = {}
    for pid, when in fired.items():
        pb = rules.matcher.by_id.get(pid)
        period = pb.suppress.same_area_for if pb else None
        if period is not None and at - when < period:
            out[pid] = when
    return out


def step_near(
    own: AreaState,
    near: dict[str, AreaState],
    signal: Signal,
    rules: Rules,
    now: datetime,
) -> dict[str, AreaState]:
    """One signal's step when it may join a situation of a neighbouring area.

    `own` is the signal's area state, `near` the neighbouring areas' states by key.
    Returns the states that changed (by key; the signal's own area under `""`): the
    signal always enters its own area's history; the situation it joins stays in the
    area where it began (its home), which decides its playbooks.
    """
    if own.seen(signal.id) or any(st.seen(signal.id) for st in near.values()):
        return {}
    homes = {s.id: key for key, st in near.items() for s in [st.situation, *st.others] if s}
    candidates = [s for st in (own, *near.values()) for s in [st.situation, *st.others] if s]
    joined = pick(candidates, signal, rules.window)
    if joined is None or joined.id not in homes:
        return {"": step(own, signal, rules, now)}
    key = homes[joined.id]
    home = near[key]
    keep = max(rules.window, rules.matcher.history_span(), RECALL)
    own_after = own.model_copy(
        update={"history": remember(own.history, signal, keep, rules.history_cap)}
    )
    situation = correlate(joined, signal, rules.window, now)
    at = situation.latest_at
    both = sorted(
        {t.id: t for t in [*home.history, *own_after.history]}.values(), key=lambda t: t.at
    )
    others = [s for s in home.others if s.id != situation.id]
    situation = situation.model_copy(
        update={
            "measures": measure(both, rules.matcher.specs, at),
            "tension": tension(situation.signals, at),
            "context": context(home.history, _past(others) + home.previous, situation),
        }
    )
    matches, fired = decide(situation, rules, home.fired)
    situation = situation.model_copy(update={"matches": matches})
    current = home.situation
    if current is not None and current.id == situation.id:
        home_after = home.model_copy(update={"situation": situation, "fired": fired})
    else:
        replaced = [situation if s.id == situation.id else s for s in home.others]
        home_after = home.model_copy(update={"others": replaced, "fired": fired})
    return {"": own_after, key: home_after}


def touched(states: dict[str, AreaState], signal_id: str) -> Situation | None:
    """The situation that holds `signal_id` among changed states."""
    for st in states.values():
        for s in [st.situation, *st.others]:
            if s is not None and any(r.id == signal_id for r in s.signals):
                return s
    return None


@dataclass(frozen=True)
class Advance:
    """What one signal changed: area states by key, the situation it is in now, and
    that situation as it was before (None when the signal opened it)."""

    states: dict[str, AreaState]
    situation: Situation | None
    before: Situation | None


def advance(
    load: Callable[[str], AreaState | None],
    signal: Signal,
    neighbours: list[str],
    rules: Rules,
    now: datetime,
) -> Advance:
    """`step_near` with the states read through `load` (a table, a dict) by key."""
    own_key = situation_key(signal)
    own = load(own_key) or AreaState()
    near: dict[str, AreaState] = {}
    for area in neighbours:
        key = correlation_key(area, signal.exercise)
        state = load(key)
        if state is not None:
            near[key] = state
    changed = step_near(own, near, signal, rules, now)
    if "" in changed:
        changed[own_key] = changed.pop("")
    situation = touched(changed, signal.id)
    before = None
    if situation is not None:
        for state in (own, *near.values()):
            before = before or state.find(situation.id)
    return Advance(changed, situation, before)
