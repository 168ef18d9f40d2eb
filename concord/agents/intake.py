"""Intake: `concord.signals.in` (raw bytes) -> `concord.signals`, or `concord.deadletter`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume_raw
from concord.core import intake
from concord.streams.signals import SignalIn
from concord.types import utcnow

if TYPE_CHECKING:
    from concord.app import Concord


async def admit(c: Concord, signal_in: SignalIn) -> Any:
    """A valid signal, sealed, on `concord.signals`; returns the broker's future.

    Keyed by correlation zone: neighbouring areas meet in one partition. The HTTP API
    admits the signals it validated here too (one hop fewer than the raw topic)."""
    signal = intake.seal(signal_in, c.sealer, utcnow())
    future = await c.topics.signals.send(key=c.directory.zone(signal.area), value=signal)
    c.metrics.signals.labels("accepted").inc()
    return future


async def take_in(c: Concord, raw: bytes, message: Any) -> None:
    """One raw record: a sealed signal on `concord.signals`, or a dead letter with why."""
    result = intake.parse(raw, c.directory)
    if isinstance(result, intake.Refused):
        # Raw reports may name victims: `deadletter` keeps the original bytes sealed.
        await c.deadletter("intake", message, raw, result.reason, result.errors, failure=False)
        c.metrics.signals.labels("refused").inc()
        return
    await admit(c, result)


def register(c: Concord) -> None:
    async def handle(raw: bytes, message: Any) -> None:
        await take_in(c, raw, message)

    @c.app.agent(c.topics.signals_in.channel, name="concord.intake")
    async def intake_agent(stream: Any) -> None:
        await consume_raw(c, "intake", stream, handle)
