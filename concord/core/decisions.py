"""Which playbooks fire for a situation, are suppressed or are inhibited. Pure.

The correlation stage owns everything per area, so it decides too: when each playbook
last fired in the area (for `suppress.same_area_for`) is part of the area's state. The
plan stage then turns fired playbooks into tasks. Decisions are recorded on the situation
(`matches`), with the reason and the signals the playbook's conditions held for, so the
board, the dry run and the examples can say why a playbook did or did not fire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from concord.playbooks.conditions import format_duration
from concord.playbooks.matcher import Matcher
from concord.streams.signals import Bias
from concord.streams.situations import PlaybookMatch, Situation

#: Most signals an area's history keeps (a few a day for 90 days fits).
HISTORY_CAP = 500


@dataclass(frozen=True)
class Rules:
    """What a signal's step needs from the playbooks in force."""

    matcher: Matcher
    window: timedelta
    revisions: dict[str, str] = field(default_factory=dict)
    history_cap: int = HISTORY_CAP
    #: bias motivations the city links for correlation (`core.correlation.same_motive`)
    linked: tuple[frozenset[Bias], ...] = ()


def decide(
    situation: Situation, rules: Rules, fired: dict[str, datetime]
) -> tuple[list[PlaybookMatch], dict[str, datetime]]:
    """Which playbooks fire for the situation now; the area's `fired` map after that.

    A playbook fires once per situation. A matching playbook is *inhibited* when another
    one that matches (or already fired for this situation) lists it in
    `suppress.inhibits`; it is *suppressed* when it fired in the same area less than
    `suppress.same_area_for` ago. Earlier decisions that are not revisited are kept.
    A playbook that fired and whose conditions hold again for the newest signal records
    it as a repeat (`PlaybookMatch.repeats`): the plan stage makes sure someone is told.
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
    for pid in done:
        triggers = found.get(pid, [])
        repeat = decisions[pid]
        new = situation.last_signal
        if new in triggers and new not in repeat.signals and new not in repeat.repeats:
            decisions[pid] = repeat.model_copy(update={"repeats": [*repeat.repeats, new]})
    return sorted(decisions.values(), key=lambda m: m.playbook), fired


def prune(fired: dict[str, datetime], rules: Rules, at: datetime) -> dict[str, datetime]:
    """Forget firings no suppression period can still reach."""
    out = {}
    for pid, when in fired.items():
        pb = rules.matcher.by_id.get(pid)
        period = pb.suppress.same_area_for if pb else None
        if period is not None and at - when < period:
            out[pid] = when
    return out
