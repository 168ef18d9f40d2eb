"""Intake: `concord.signals.in` (raw bytes) -> `concord.signals`, or `concord.deadletter`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.core import intake
from concord.streams import topics as t
from concord.streams.models import DeadLetter, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    signals_out = c.topics[t.SIGNALS.name]
    dead_out = c.topics[t.DEADLETTER.name]

    @c.app.agent(c.topics[t.SIGNALS_IN.name], name="concord.intake")
    async def intake_agent(stream: Any) -> None:
        async for event in stream.events():
            raw: bytes = (
                event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
            )
            result = intake.parse(raw, c.directory)
            if isinstance(result, intake.Refused):
                dead = DeadLetter(
                    reason=result.reason,
                    errors=result.errors,
                    # Raw reports may name victims: the original bytes are kept, sealed.
                    original=c.sealer.seal(raw),
                    original_size=len(raw),
                    topic=t.SIGNALS_IN.name,
                    partition=event.message.partition,
                    offset=event.message.offset,
                )
                await dead_out.send(
                    key=f"{event.message.partition}:{event.message.offset}", value=dead
                )
                c.metrics.signals.labels("refused").inc()
                c.metrics.deadletters.labels(result.reason).inc()
                c.observer.deadletter(dead)
                continue
            signal = intake.seal(result, c.sealer, utcnow())
            # Keyed by area: correlation of an area happens on one partition.
            # Keyed by correlation zone: neighbouring areas meet in one partition.
            await signals_out.send(key=c.directory.zone(signal.area), value=signal)
            c.metrics.signals.labels("accepted").inc()
