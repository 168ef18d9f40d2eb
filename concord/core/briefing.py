"""A task's briefing: what the liaison who holds it is told about it. Pure.

A task's text says what to do; the briefing says what happened: the kind of incident
and its motivation, where (every area the task answers, latest last), when it happened
and when it was reported, the situation's tension, and what the task waits for (the
panel, or other agencies' tasks). No free text and no persons: those are shown apart,
scrubbed and audited (`concord.web.texts`, `concord.core.disclosure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from concord.streams.signals import Bias, Category
from concord.streams.situations import Situation
from concord.streams.tasks import Task, TaskState


@dataclass(frozen=True)
class Briefing:
    """What happened, where and when, for one task."""

    category: Category
    bias: list[Bias]
    areas: list[str]  # codes, in the order the task's signals happened
    first_at: datetime | None  # when the first incident it answers happened
    latest_at: datetime | None  # ... and the latest (None when one)
    reported_at: datetime | None  # when Concord got the first report
    reports: int
    tension: str | None  # the situation's level (None: situation not known yet)
    awaits_panel: bool
    waits_for: list[Task]  # prerequisites not done yet


def brief(task: Task, situation: Situation | None, tasks: Mapping[str, Task]) -> Briefing:
    """The task's briefing from the situation and the tasks the read model holds."""
    refs = [r for r in situation.signals if r.id in task.signals] if situation else []
    times = sorted(r.occurred_at for r in refs)
    received = sorted(r.received_at for r in refs if r.received_at is not None)
    bias = list(dict.fromkeys(b for r in refs for b in r.bias)) or (
        list(situation.bias) if situation else []
    )
    waiting = [
        tasks[d]
        for d in task.depends_on
        if d in tasks and tasks[d].state not in (TaskState.done, TaskState.cancelled)
    ]
    return Briefing(
        category=task.category,
        bias=bias,
        areas=task.areas or [task.area],
        first_at=times[0] if times else None,
        latest_at=times[-1] if len(times) > 1 else None,
        reported_at=received[0] if received else None,
        reports=len(refs),
        tension=situation.tension.level if situation else None,
        awaits_panel=task.awaiting == "panel",
        waits_for=waiting if task.state == TaskState.pending else [],
    )
