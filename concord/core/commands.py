"""Situation commands: a lifecycle move, a split, a merge (coordinators, the panel). Pure.

Applied by the correlation stage, the only writer of situations, to the area state the
situation lives in (`concord.core.correlation.AreaState`). `refusal` is the rule both
the API (against the read model, to answer at once) and `apply_command` (against the
area state, the truth) ask.
"""

from __future__ import annotations

from datetime import datetime

from concord.core.correlation import AreaState, area_key, severity_of, situation_id
from concord.core.decisions import Rules, decide
from concord.core.history import Trace
from concord.core.lifecycle import ALLOWED, IllegalTransition, move
from concord.core.refusal import Refused
from concord.core.tension import tension
from concord.streams.situations import SignalRef, Situation, SituationCommand, SituationState


class CommandError(ValueError):
    """A situation command that does not apply (unknown situation, bad signal list)."""


#: The field each action needs.
REQUIRED = {"state": "to", "split": "signals", "merge": "other"}


def plan_command(situation: Situation, reason: str) -> SituationCommand:
    """The `plan` command for a situation a playbook could not plan: what the plan stage
    dead-letters, so that a replay after the fix has the correlation stage plan it again.
    Its record is keyed by the zone of `situation.area`, like the stage's input."""
    return SituationCommand(
        situation_id=situation.id,
        key=area_key(situation.area, situation.exercise),
        action="plan",
        actor="concord",
        reason=reason,
    )


def _invalid(loc: str, msg: str) -> Refused:
    return Refused(f"{loc}: {msg}", errors=[{"loc": loc, "msg": msg}])


def refusal(
    situation: Situation, command: SituationCommand, other: Situation | None = None
) -> Refused | None:
    """Why `command` cannot apply to `situation` (None: it can). `other`: the situation
    a merge absorbs, if it is known.

    A refusal with `errors` is about the request (a missing field, a signal that is not
    the situation's); one without is about the situations' states."""
    required = REQUIRED[command.action]
    if not getattr(command, required):
        return _invalid(required, "Field required")
    if command.action == "state":
        to = command.to
        assert to is not None
        if to != situation.state and to not in ALLOWED[situation.state]:
            return Refused(str(IllegalTransition(situation.id, situation.state, to)))
    elif command.action == "split":
        unknown = sorted(set(command.signals) - {r.id for r in situation.signals})
        if unknown:
            return _invalid("signals", f"not in {situation.id}: {unknown}")
        if not [r for r in situation.signals if r.id not in command.signals]:
            return _invalid("signals", "a split must leave at least one signal in the situation")
    else:
        if other is None or other.id == situation.id:
            return _invalid("other", "no such situation")
        if (other.area, other.exercise) != (situation.area, situation.exercise):
            return Refused(
                "only situations of the same area (and both drills or both real) can be merged"
            )
    return None


def apply_command(
    state: AreaState, command: SituationCommand, now: datetime, rules: Rules | None = None
) -> tuple[AreaState, list[Situation]]:
    """The area's state after a coordinator's (or the panel's) command, and the
    situations it changed (to publish).

    - `state`: move a situation along its lifecycle (IllegalTransition if not allowed);
    - `split`: move `signals` out into a new situation (named after the first of them),
      placed where its own signals happened; with `rules`, the playbooks decide for it
      as for any new situation, so its tasks reach their agencies;
    - `merge`: the situation absorbs `other` (same area), which is closed, `merged_into`.
    """
    target = state.find(command.situation_id)
    if target is None:
        raise CommandError(f"situation {command.situation_id} is not open in {command.key}")
    refused = refusal(target, command, state.find(command.other or ""))
    if refused is not None:
        raise CommandError(refused.reason)
    changed: list[Situation]
    if command.action == "state":
        assert command.to is not None
        moved = move(target, command.to, now)
        changed = [] if moved is target else [moved]
    elif command.action == "split":
        changed = _split(state, target, command.signals, now)
        if rules is not None:
            matches, fired = decide(changed[1], rules, state.fired)
            changed[1] = changed[1].model_copy(update={"matches": matches})
            state = state.model_copy(update={"fired": fired})
    else:
        changed = _merge(state, target, command.other, now)
    if not changed:
        return state, []
    by_id = {x.id: x for x in changed}
    current = state.situation
    if current is not None:
        current = by_id.pop(current.id, current)
    others = [by_id.pop(o.id, o) for o in state.others]
    others += list(by_id.values())  # a situation split off
    return state.model_copy(update={"situation": current, "others": others}), changed


def _rebuild(
    s: Situation, refs: list[SignalRef], traces: dict[str, Trace], now: datetime
) -> Situation:
    """A situation's figures from its signals (after a split or a merge)."""
    refs = sorted(refs, key=lambda r: r.occurred_at)
    areas = list(dict.fromkeys(r.area or s.area for r in refs))
    bias = [b for r in refs for b in (r.bias or (traces[r.id].bias if r.id in traces else []))]
    tags = [t for r in refs for t in (traces[r.id].tags if r.id in traces else [])]
    return s.model_copy(
        update={
            "signals": refs,
            "areas": [s.area, *[a for a in areas if a != s.area]] if s.area in areas else areas,
            "severity": severity_of(refs),
            "kinds": list(dict.fromkeys(r.kind for r in refs)),
            "categories": list(dict.fromkeys(r.category for r in refs)),
            "bias": list(dict.fromkeys(bias)) or s.bias,
            "tags": list(dict.fromkeys(tags)) or s.tags,
            "tension": tension(refs, refs[-1].occurred_at),
            "updated_at": now,
        }
    )


def _split(state: AreaState, target: Situation, ids: list[str], now: datetime) -> list[Situation]:
    moved = [r for r in target.signals if r.id in ids]
    kept = [r for r in target.signals if r.id not in ids]
    traces = {t.id: t for t in state.history}
    first = min(moved, key=lambda r: r.occurred_at)
    new = Situation(
        id=situation_id(first.id, target.area),
        area=first.area or target.area,
        severity=first.severity,
        kinds=[first.kind],
        categories=[first.category],
        bias=[],
        tags=[],
        signals=moved,
        opened_at=now,
        updated_at=now,
        exercise=target.exercise,
        last_signal=moved[-1].id,
        split_from=target.id,
        context=target.context,
    )
    return [_rebuild(target, kept, traces, now), _rebuild(new, moved, traces, now)]


def _merge(
    state: AreaState, target: Situation, other_id: str | None, now: datetime
) -> list[Situation]:
    other = state.find(other_id or "")
    assert other is not None  # `refusal` checked it
    traces = {t.id: t for t in state.history}
    merged = _rebuild(target, [*target.signals, *other.signals], traces, now)
    known = {m.playbook for m in target.matches}
    extra = [m for m in other.matches if m.playbook not in known]
    merged = merged.model_copy(update={"matches": [*target.matches, *extra]})
    closed = other.model_copy(
        update={"state": SituationState.closed, "merged_into": target.id, "updated_at": now}
    )
    return [merged, closed]
