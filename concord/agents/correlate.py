"""Correlate: `concord.signals` -> area state (table) -> `concord.situations`.

Signals are keyed by correlation zone (a connected group of neighbouring areas), so a
zone's signals are handled in order by one worker, which owns its areas' states: their
situations, recent history and firings. A signal may join a situation of a neighbouring
area. The step (correlate, figures, decisions) is `concord.core.correlation.step`, pure;
it runs before anything is written, so a signal it cannot process leaves no trace but
its dead letter (and can be replayed once the cause is fixed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume
from concord.core.commands import CommandError, apply_command
from concord.core.correlation import AreaState, step
from concord.core.lifecycle import IllegalTransition
from concord.streams.codec import dump
from concord.streams.signals import Signal
from concord.streams.situations import SituationCommand
from concord.types import utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    # Keys are str (bytes keys break changelog recovery); values are JSON dicts.
    seen = c.app.Table("signals-seen", default=None, partitions=c.settings.partitions)
    areas = c.app.Table("area-state", default=None, partitions=c.settings.partitions)

    def load(key: str) -> AreaState | None:
        stored = areas.get(key)
        return AreaState.model_validate(stored) if stored else None

    async def correlate_one(signal: Signal) -> None:
        # Idempotent on the producer's id (same id, same zone, same partition).
        if seen.get(signal.id) is not None:
            c.metrics.signals.labels("duplicate").inc()
            return
        neighbours = c.directory.neighbours(signal.area)
        moved = step(load, signal, neighbours, c.playbooks.rules, utcnow())
        seen[signal.id] = signal.received_at.isoformat()
        if moved.situation is None:
            return
        for key, state in moved.states.items():
            areas[key] = dump(state)
        await c.topics.situations.send(key=moved.situation.id, value=moved.situation)
        c.metrics.situations.inc()
        c.observer.signal(signal)

    async def command_one(command: SituationCommand) -> None:
        # Keyed like the signals (same key, same partition count, same worker), and the
        # read-modify-write below does not await: the area state has a single writer.
        stored = areas.get(command.key)
        state = AreaState.model_validate(stored) if stored else AreaState()
        try:
            after, changed = apply_command(state, command, utcnow())
        except (CommandError, IllegalTransition) as exc:
            await c.audit(
                command.actor,
                "situation.refused",
                command.situation_id,
                command=command.action,
                reason=str(exc),
            )
            return
        if not changed:
            return
        areas[command.key] = dump(after)
        for situation in changed:
            await c.topics.situations.send(key=situation.id, value=situation)
        await c.audit(
            command.actor,
            f"situation.{command.action}",
            command.situation_id,
            to=str(command.to or ""),
            other=command.other or "",
            signals=",".join(command.signals),
            reason=command.reason,
        )

    @c.app.agent(c.topics.signals.channel, name="concord.correlate")
    async def correlate_agent(stream: Any) -> None:
        await consume(c, "correlate", c.topics.signals, stream, correlate_one)

    @c.app.agent(c.topics.situation_commands.channel, name="concord.situation-commands")
    async def command_agent(stream: Any) -> None:
        await consume(c, "situation-commands", c.topics.situation_commands, stream, command_one)
