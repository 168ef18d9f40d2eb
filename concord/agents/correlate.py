"""Correlate: `concord.signals` -> area state (table) -> `concord.situations`, then plan.

Signals are keyed by correlation zone (a connected group of neighbouring areas), so a
zone's signals are handled in order by one worker, which owns its areas' states: their
situations, recent history and firings. A signal may join a situation of a neighbouring
area. The step (correlate, figures, decisions) is `concord.core.correlation.step`, pure;
it runs before anything is written, so a signal it cannot process leaves no trace but
its dead letter (and can be replayed once the cause is fixed).

Situation commands (a coordinator's or the panel's state change, split, merge) are keyed
like the signals, so they reach the same worker: the area state has a single writer.

Each snapshot published is planned at once, in the same step (`plan.plan_one`): the
tasks of the playbooks that fired leave with the situation, in the same batch.

An area's state is one record, and a record has a most (`MAX_STATE_BYTES`): a signal
that would take its area's state past it is refused (`AreaFull`), so the stage makes it
a dead letter with the reason, and a command (a merge) is refused and audited. Without
this, the write failed in the producer and stopped the worker, and the signal, read
again at each restart, stopped it again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import faust

from concord.agents import plan
from concord.agents.stage import Unfit, consume
from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core.commands import CommandError, apply_command
from concord.core.correlation import AreaState, holding, step
from concord.core.lifecycle import IllegalTransition
from concord.delivery.compose import Compose
from concord.streams.signals import Signal
from concord.streams.situations import SituationCommand
from concord.streams.tables import Shape, Table
from concord.worker.live import LivePlaybooks
from concord.worker.runtime import Flow

#: The most an area's state may weigh, encoded. Kafka takes a record of up to 1 MB by
#: default (the producer's `max_request_size`, the broker's `message.max.bytes`), and
#: the state's situation also travels alone on `concord.situations`, in a `joined` review
#: event and in the panel's review record beside its versions: the state stops well
#: short: about 900 signals in one situation (a signal weighs ~0.7 KB in it).
MAX_STATE_BYTES = 600_000


class AreaFull(Unfit):
    """A signal or command would take an area's state (`key`) past `MAX_STATE_BYTES`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Correlation:
    """What the correlation stage reads and writes."""

    flow: Flow
    directory: Directory
    playbooks: LivePlaybooks
    #: signal id -> when it was received: a signal is correlated once per id
    seen: Table[str]
    #: area-state key (area, or area + exercise) -> its situations, history, firings
    areas: Table[AreaState]
    #: the plan stage, run on every snapshot this stage publishes
    planning: plan.Planning
    #: what to tell the coordinators when an area is full
    compose: Compose
    #: the most an area's state may weigh, encoded (`MAX_STATE_BYTES`)
    most_bytes: int = MAX_STATE_BYTES


def weighed(s: Correlation, states: dict[str, AreaState]) -> dict[str, bytes]:
    """The states encoded, each within `most_bytes`; else `AreaFull`, before any is
    written."""
    encoded = {key: s.areas.encode(state) for key, state in states.items()}
    for key, raw in encoded.items():
        if len(raw) > s.most_bytes:
            raise AreaFull(
                key,
                f"the state of {key} would weigh {len(raw) / 1000:.1f} KB, more than the "
                f"{s.most_bytes / 1000:.1f} KB one record holds: close or split one of its "
                "situations, then replay this dead letter",
            )
    return encoded


async def correlate_one(s: Correlation, signal: Signal) -> None:
    """One signal: into a situation (new or existing), which is published and planned if
    it changed; the signal is marked seen last (see `replan`)."""
    # Idempotent on the producer's id (same id, same zone, same partition).
    if signal.id in s.seen:
        s.flow.metrics.signals.labels("duplicate").inc()
        return
    neighbours = s.directory.neighbours(signal.area)
    moved = step(s.areas.get, signal, neighbours, s.playbooks.rules, utcnow())
    if moved.situation is None:  # its area's state holds it, the seen-table does not
        await replan(s, signal, neighbours)
    else:
        try:
            encoded = weighed(s, moved.states)
        except AreaFull as full:
            await tell_full(s, full.key)
            raise  # the stage makes the signal a dead letter, with the reason
        for key, raw in encoded.items():
            s.areas.put(key, raw)
        await s.flow.topics.situations.send(key=moved.situation.id, value=moved.situation)
        s.flow.metrics.situations.inc()
        s.flow.observer.signal(signal)
        await plan.plan_one(s.planning, moved.situation)
    s.seen[signal.id] = signal.received_at.isoformat()


def full_marker(key: str) -> str:
    """The plan stage's table entry that says the coordinators were told the area of
    `key` is full (a coordinator's change to one of its situations removes it)."""
    return f"{key}|full"


async def tell_full(s: Correlation, key: str) -> None:
    """Tell the coordinators that the area of `key` is full, once each time it fills (a
    close or a split of one of its situations re-arms it), naming its largest situation."""
    state = s.areas.get(key)
    marker = full_marker(key)
    if state is None or not state.open() or marker in s.planning.fired:
        return
    largest = max(state.open(), key=lambda x: len(x.signals))
    count = sum(len(x.signals) for x in state.open())
    for outgoing in s.compose.area_full(largest.area, count, largest, utcnow()):
        await s.flow.post(outgoing)
    s.planning.fired[marker] = 1
    await s.flow.audit("concord", "area.full", largest.id, area=key, signals=str(count))


async def replan(s: Correlation, signal: Signal, neighbours: list[str]) -> None:
    """A signal its area's state holds but not yet seen: its situation is planned again,
    which makes only what is missing (the plan stage's table says what was made).

    The seen-table is the marker of this stage (`streams.held`): it is written once the
    area's state and the plan's writes are durable, and those once every record the
    batch sent is. So a worker that dies part-way leaves a signal its area's state may
    hold but the seen-table does not; its batch is read again, and without this its
    situation's tasks would never be made. A signal seen is skipped: a producer's retry
    costs a lookup."""
    situation = holding(s.areas.get, signal, neighbours)
    if situation is not None:
        await plan.plan_one(s.planning, situation)


async def command_one(s: Correlation, command: SituationCommand) -> None:
    """A state change, split or merge of a situation, applied to its area's state; or
    (`plan`) the situation planned again."""
    # The read-modify-write below does not await: nothing else writes meanwhile.
    state = s.areas.get(command.key) or AreaState()
    if command.action == "plan":
        await plan_again(s, state, command)
        return
    try:
        after, changed = apply_command(state, command, utcnow(), s.playbooks.rules)
        # A merge may take the state past what one record holds: refused like the rest.
        encoded = weighed(s, {command.key: after}) if changed else {}
    except (CommandError, IllegalTransition, AreaFull) as exc:
        await s.flow.audit(
            command.actor,
            "situation.refused",
            command.situation_id,
            command=command.action,
            reason=str(exc),
        )
        return
    if not changed:
        return
    s.areas.put(command.key, encoded[command.key])
    if full_marker(command.key) in s.planning.fired:  # room made: the next fill is told
        s.planning.fired.pop(full_marker(command.key))
    for situation in changed:
        await s.flow.topics.situations.send(key=situation.id, value=situation)
        await plan.plan_one(s.planning, situation)
    await s.flow.audit(
        command.actor,
        f"situation.{command.action}",
        command.situation_id,
        to=str(command.to or ""),
        other=command.other or "",
        signals=",".join(command.signals),
        reason=command.reason,
    )


async def plan_again(s: Correlation, state: AreaState, command: SituationCommand) -> None:
    """A plan stage's dead letter replayed after a fix: the situation as it is now is
    planned again; a situation no longer open is refused (audited)."""
    situation = state.find(command.situation_id)
    if situation is None:
        reason = f"situation {command.situation_id} is not open in {command.key}"
        await s.flow.audit(
            command.actor, "situation.refused", command.situation_id, command="plan", reason=reason
        )
        return
    await plan.again(s.planning, situation)


async def run_signals(s: Correlation, stream: Any) -> None:
    """The correlate stage's loop over `concord.signals`."""
    await consume(
        s.flow, "correlate", s.flow.topics.signals, stream, functools.partial(correlate_one, s)
    )


async def run_commands(s: Correlation, stream: Any) -> None:
    """The correlate stage's loop over `concord.situation-commands` (coordinators' changes)."""
    topic = s.flow.topics.situation_commands
    await consume(s.flow, "correlate", topic, stream, functools.partial(command_one, s))


def register(
    app: faust.App,
    flow: Flow,
    directory: Directory,
    playbooks: LivePlaybooks,
    shape: Shape,
    planning: plan.Planning,
    compose: Compose,
) -> None:
    """Create the stage's tables and bind its two agents (which plan what they publish)."""
    s = Correlation(
        flow,
        directory,
        playbooks,
        # The marker: written once the area's state and the plan's writes are durable.
        seen=Table(app, "signals-seen", str, shape, marker=True),
        areas=Table(app, "area-state", AreaState, shape),
        planning=planning,
        compose=compose,
    )
    topics = flow.topics
    app.agent(topics.signals.channel, name="concord.correlate")(functools.partial(run_signals, s))
    app.agent(topics.situation_commands.channel, name="concord.situation-commands")(
        functools.partial(run_commands, s)
    )
