"""CAP in: `concord.cap.in` (raw CAP 1.2 alerts) -> signals, triage, closed situations.

The rules are `concord.core.capin.handle`; this agent carries out what it decides: the
signals through `Flow.admit` (sealed, like any producer's), the unplaced ones to
`concord.triage`, a Cancel's situation commands and task cancellations. An alert that is
not safe, valid CAP 1.2 goes to `concord.deadletter` with its reason and XPaths.
`POST /api/cap` and `concord signal send --cap FILE` put alerts on the topic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import faust

from concord.agents.stage import consume_raw
from concord.config.directory import Directory
from concord.core import capin
from concord.core.refusal import Refused
from concord.streams.situations import Situation
from concord.streams.tasks import Task
from concord.worker.runtime import Flow, Where


@dataclass(frozen=True)
class Known:
    """What a Cancel looks at: the situations, and a situation's tasks (the read model)."""

    situations: Callable[[], Iterable[Situation]]
    tasks_of: Callable[[str], Iterable[Task]]


async def take(flow: Flow, directory: Directory, known: Known, raw: bytes, message: Any) -> None:
    """One alert: carry out what `capin.handle` decides."""
    result = capin.handle(raw, directory, known.situations(), known.tasks_of)
    if isinstance(result, Refused):
        at = Where.of(message)
        await flow.deadletter("capin", at, raw, result.reason, result.errors, failure=False)
        flow.metrics.signals.labels("refused").inc()
        return
    for signal in result.signals:
        await flow.admit(directory, signal)
    for item in result.triage:
        reason = "the area named matches none of the directory" if item.area_desc else "no area"
        await flow.triage(item.signal, "cap", reason, item.area_desc)
    for command in result.close:
        area = command.key.split("|", 1)[0]  # keyed like the signals: by zone
        await flow.topics.situation_commands.send(key=directory.zone(area), value=command)
    for event in result.cancel:
        await flow.topics.task_events.send(key=event.task_id, value=event)
    await flow.audit(
        f"cap:{result.identifier}"[:128],
        "cap.received",
        result.identifier,
        via="api",
        signals=str(len(result.signals)),
        triage=str(len(result.triage)),
        closed=str(len(result.close)),
    )


async def run(flow: Flow, directory: Directory, known: Known, stream: Any) -> None:
    """The agent's body."""
    await consume_raw(flow, "capin", stream, functools.partial(take, flow, directory, known))


def register(app: faust.App, flow: Flow, directory: Directory, known: Known) -> None:
    """Bind the CAP agent."""
    app.agent(flow.topics.cap_in.channel, name="concord.capin")(
        functools.partial(run, flow, directory, known)
    )
