"""One signal's step through its area: correlate, update the history, decide. Pure.

The correlation stage owns everything that is per area: the area's current situation,
its recent history (for thresholds and trends) and when each playbook last fired there
(for `suppress.same_area_for`). So it also decides which playbooks fire, are
suppressed or are inhibited; the match stage turns fired playbooks into tasks.
Decisions are recorded on the situation (`matches`), with the reason, so the board, the
dry run and the examples can say why a playbook did not fire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from concord.core.correlation import correlate
from concord.core.lifecycle import move
from concord.core.tension import tension
from concord.core.windows import Trace, measure, remember
from concord.playbooks.conditions import format_duration
from concord.playbooks.matcher import Matcher
from concord.streams.models import (
    AreaContext,
    PastSituation,
    PlaybookMatch,
    Signal,
    Situation,
    Strict,
)
from concord.streams.reviews import SituationCommand

#: Most signals an area's history keeps (a few a day for 90 days fits).
HISTORY_CAP = 500
#: Earlier situations an area remembers for the analysis.
PREVIOUS_CAP = 20
RECALL = timedelta(days=90)


class AreaState(Strict):
    """The `area-state` table's value, keyed `area|real` or `area|exercise`."""

    situation: Situation | None = None
    history: list[Trace] = Field(default_factory=list)
    fired: dict[str, datetime] = Field(
        default_factory=dict, description="playbook id -> when it last fired in this area"
    )
    previous: list[PastSituation] = Field(
        default_factory=list, description="earlier situations of the area, newest last"
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
    matched = [pb for pb in rules.matcher.match(situation) if pb.id not in done]
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
        )
    return sorted(decisions.values(), key=lambda m: m.playbook), fired


def step(state: AreaState, signal: Signal, rules: Rules, now: datetime) -> AreaState:
    """The area's state after `signal` (its situation carries figures and decisions)."""
    situation = correlate(state.situation, signal, rules.window, now)
    if situation is state.situation:  # already seen
        return state
    keep = max(rules.window, rules.matcher.history_span(), RECALL)
    history = remember(state.history, signal, keep, rules.history_cap)
    previous = _previous(state, situation)
    at = situation.latest_at
    situation = situation.model_copy(
        update={
            "measures": measure(history, rules.matcher.specs, at),
            "tension": tension(situation.signals, at),
            "context": context(history, previous, situation),
        }
    )
    matches, fired = decide(situation, rules, state.fired)
    return AreaState(
        situation=situation.model_copy(update={"matches": matches}),
        history=history,
        fired=_prune(fired, rules, situation.latest_at),
        previous=previous,
    )


def _previous(state: AreaState, situation: Situation) -> list[PastSituation]:
    """The area's earlier situations, with the one `situation` replaces added."""
    old = state.situation
    if old is None or old.id == situation.id:
        return state.previous
    past = PastSituation(
        id=old.id,
        opened_at=min(r.occurred_at for r in old.signals),
        severity=old.severity,
        categories=old.categories,
        state=old.state,
        signals=len(old.signals),
    )
    return [*state.previous, past][-PREVIOUS_CAP:]


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


class CommandError(ValueError):
    """A situation command that does not apply (e.g. the situation is not this area's)."""


def apply_command(state: AreaState, command: SituationCommand, now: datetime) -> AreaState:
    """The area's state after a state change of its current situation.

    Raises CommandError when the situation is not the area's current one, and
    IllegalTransition when the lifecycle forbids the move.
    """
    current = state.situation
    if current is None or current.id != command.situation_id:
        raise CommandError(f"situation {command.situation_id} is not current in {command.key}")
    if command.action != "state" or command.to is None:
        raise CommandError(f"unsupported command {command.action}")
    moved = move(current, command.to, now)
    if moved is current:
        return state
    return state.model_copy(update={"situation": moved})
