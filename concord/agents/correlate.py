"""Correlate: `concord.signals` -> area state (table) -> `concord.situations`.

Signals are keyed by area, so one area's signals are handled in order by one worker,
which owns the area's state: its situation, its recent history and its firings. The
step (correlate, figures, decisions) is `concord.core.areas.step`, a pure function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.core.areas import AreaState, step
from concord.core.correlation import situation_key
from concord.streams import topics as t
from concord.streams.codec import dump
from concord.streams.models import Signal, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    # Keys are str (bytes keys break changelog recovery); values are JSON dicts.
    seen = c.app.Table("signals-seen", default=None, partitions=c.settings.partitions)
    areas = c.app.Table("area-state", default=None, partitions=c.settings.partitions)
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
            stored = areas.get(key)
            before = AreaState.model_validate(stored) if stored else AreaState()
            after = step(before, signal, c.playbooks.rules, utcnow())
            if after is before or after.situation is None:
                continue
            areas[key] = dump(after)
            c.observer.signal(signal)
            c.metrics.situations.inc()
            await situations_out.send(key=after.situation.id, value=after.situation)
