"""Correlate: `concord.signals` -> situations (table by area) -> `concord.situations`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from concord.core.correlation import correlate, situation_key
from concord.streams import topics as t
from concord.streams.codec import dump
from concord.streams.models import Signal, Situation, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    window = timedelta(hours=c.settings.correlation_window_hours)
    # Keys are str (bytes keys break changelog recovery); values are JSON dicts.
    seen = c.app.Table("signals-seen", default=None, partitions=c.settings.partitions)
    current = c.app.Table("situation-by-area", default=None, partitions=c.settings.partitions)
    situations_out = c.topics[t.SITUATIONS.name]

    @c.app.agent(c.topics[t.SIGNALS.name], name="concord.correlate")
    async def correlate_agent(stream: Any) -> None:
        signal: Signal
        async for signal in stream:
            # Idempotent on the producer's id (same id, same area, same partition).
            if seen.get(signal.id) is not None:
                c.metrics.signals.labels("duplicate").inc()
                continue
            seen[signal.id] = signal.received_at.isoformat()
            key = situation_key(signal)
            previous = current.get(key)
            before = Situation.model_validate(previous) if previous else None
            situation = correlate(before, signal, window, utcnow())
            current[key] = dump(situation)
            c.observer.signal(signal)
            c.metrics.situations.inc()
            await situations_out.send(key=situation.id, value=situation)
