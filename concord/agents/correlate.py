"""Correlate: `concord.signals` -> area state (table) -> `concord.situations`.

Signals are keyed by correlation zone (a connected group of neighbouring areas), so a
zone's signals are handled in order by one worker, which owns its areas' states: their
situations, recent history and firings. A signal may join a situation of a neighbouring
area. The step (correlate, figures, decisions) is `concord.core.areas.advance`, pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.core.areas import AreaState, advance
from concord.core.commands import CommandError, apply_command
from concord.core.lifecycle import IllegalTransition
from concord.streams import topics as t
from concord.streams.codec import dump
from concord.streams.models import Signal, utcnow
from concord.streams.reviews import SituationCommand

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    # Keys are str (bytes keys break changelog recovery); values are JSON dicts.
    seen = c.app.Table("signals-seen", default=None, partitions=c.settings.partitions)
    areas = c.app.Table("area-state", default=None, partitions=c.settings.partitions)
    situations_out = c.topics[t.SITUATIONS.name]
    commands = c.topics[t.SITUATION_COMMANDS.name]

    @c.app.agent(c.topics[t.SIGNALS.name], name="concord.correlate")
    async def correlate_agent(stream: Any) -> None:
        signal: Signal
        async for signal in stream:
            # Idempotent on the producer's id (same id, same zone, same partition).
            if seen.get(signal.id) is not None:
                c.metrics.signals.labels("duplicate").inc()
                continue
            seen[signal.id] = signal.received_at.isoformat()

            def load(key: str) -> AreaState | None:
                stored = areas.get(key)
                return AreaState.model_validate(stored) if stored else None

            neighbours = c.directory.neighbours(signal.area)
            step = advance(load, signal, neighbours, c.playbooks.rules, utcnow())
            if step.situation is None:
                continue
            for key, state in step.states.items():
                areas[key] = dump(state)
            c.observer.signal(signal)
            c.metrics.situations.inc()
            await situations_out.send(key=step.situation.id, value=step.situation)

    @c.app.agent(commands, name="concord.situation-commands")
    async def command_agent(stream: Any) -> None:
        # Keyed like the signals (same key, same partition count, same worker), and the
        # read-modify-write below does not await: the area state has a single writer.
        command: SituationCommand
        async for command in stream:
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
                continue
            if not changed:
                continue
            areas[command.key] = dump(after)
            for situation in changed:
                await situations_out.send(key=situation.id, value=situation)
            await c.audit(
                command.actor,
                f"situation.{command.action}",
                command.situation_id,
                to=str(command.to or ""),
                other=command.other or "",
                signals=",".join(command.signals),
                reason=command.reason,
            )
