"""Intake: `concord.signals.in` (raw bytes) -> `concord.signals`, or `concord.deadletter`."""

from __future__ import annotations

import functools
from typing import Any

import faust

from concord.agents.stage import consume_raw
from concord.config.directory import Directory
from concord.core import intake
from concord.core.refusal import Refused
from concord.worker.runtime import Flow, Where


async def take_in(flow: Flow, directory: Directory, raw: bytes, message: Any) -> None:
    """One raw record: a sealed signal on `concord.signals`, or a dead letter with why."""
    result = intake.parse(raw, directory)
    if isinstance(result, Refused):
        # Raw reports may name victims: `deadletter` keeps the original bytes sealed.
        at = Where.of(message)
        await flow.deadletter("intake", at, raw, result.reason, result.errors, failure=False)
        flow.metrics.signals.labels("refused").inc()
        return
    await flow.admit(directory, result)


async def run(flow: Flow, directory: Directory, stream: Any) -> None:
    """The intake agent's body."""
    await consume_raw(flow, "intake", stream, functools.partial(take_in, flow, directory))


def register(app: faust.App, flow: Flow, directory: Directory) -> None:
    """Bind the intake agent."""
    app.agent(flow.topics.signals_in.channel, name="concord.intake")(
        functools.partial(run, flow, directory)
    )
