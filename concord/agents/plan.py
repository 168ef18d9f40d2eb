"""Plan: `concord.situations` -> tasks of the playbooks that fired -> `concord.task-events`.

The correlation stage decided which playbooks fire (`Situation.matches`); this stage
plans their tasks, once per situation and playbook, with the playbook version and file
revision that decided. Tasks of a playbook with `review` go to the panel's gate, which
holds them until the panel approves; the others go to the track stage, which dispatches
them when nothing holds them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import faust

from concord.agents.stage import consume
from concord.core.gate import propose
from concord.core.planning import PlanningError, plan_or_refuse
from concord.directory import Directory
from concord.live import LivePlaybooks
from concord.runtime import Flow, Where
from concord.streams import topics as t
from concord.streams.reviews import ReviewEvent
from concord.streams.situations import PlaybookMatch, Situation
from concord.streams.tables import Table
from concord.streams.tasks import Task, TaskEvent
from concord.types import utcnow


@dataclass(frozen=True)
class Planning:
    """What the planning stage reads and writes."""

    flow: Flow
    directory: Directory
    playbooks: LivePlaybooks
    #: "situation|playbook" -> the version that fired (-1: it failed); with "|status"
    #: appended, 0 for a suppression or inhibition already audited
    fired: Table[int]


async def refuse(s: Planning, situation: Situation, exc: PlanningError) -> None:
    """A playbook that cannot plan: the situation is dead-lettered with why, audited."""
    raw = situation.model_dump_json().encode()
    errors = [{"loc": exc.playbook_id, "msg": exc.reason}]
    at = Where(t.SITUATIONS.name, situation.id)
    await s.flow.deadletter(
        "match", at, raw, "playbook failed", errors, failure=False, audited=False
    )
    s.flow.metrics.stage_failures.labels("match").inc()
    await s.flow.audit(
        "concord", "playbook.failed", situation.id, playbook=exc.playbook_id, reason=exc.reason
    )


async def plan(s: Planning, situation: Situation, decision: PlaybookMatch) -> None:
    """The tasks of a playbook that fired, held for the panel or on their way."""
    key = f"{situation.id}|{decision.playbook}"
    if key in s.fired:
        return
    try:
        playbook = s.playbooks.get(decision.playbook, decision.version)
        if playbook is None:
            raise PlanningError(decision.playbook, f"version {decision.version} not loaded")
        tasks = plan_or_refuse(
            situation, playbook, s.directory, utcnow(), decision.revision, decision.signals or None
        )
    except PlanningError as exc:
        # Nothing is lost: the situation goes to the dead-letter topic with the reason,
        # the coordinator sees it in the audit, other playbooks go on.
        s.fired[key] = -1
        await refuse(s, situation, exc)
        return
    review = playbook.review is not None and playbook.review.required
    if review:
        # The panel validates the analysis first: the gate holds the tasks.
        proposal = propose(playbook, tasks, decision.revision)
        event = ReviewEvent(
            situation_id=situation.id, kind="open", situation=situation, proposal=proposal
        )
        await s.flow.topics.review_events.send(key=situation.id, value=event)
    else:
        await create(s, tasks)
    s.fired[key] = playbook.version
    await fired(s, situation, playbook.id, str(playbook.version), decision.revision, tasks, review)


async def create(s: Planning, tasks: list[Task]) -> None:
    # Task ids are deterministic: a replay after a crash re-creates the same tasks, and
    # the track stage creates each task id once.
    for task in tasks:
        created = TaskEvent(task_id=task.id, action="created", task=task)
        await s.flow.topics.task_events.send(key=task.id, value=created)


async def fired(
    s: Planning,
    situation: Situation,
    playbook: str,
    version: str,
    revision: str,
    tasks: list[Task],
    review: bool,
) -> None:
    s.flow.metrics.playbooks_fired.labels(playbook).inc()
    s.flow.metrics.tasks.inc(len(tasks))
    s.flow.observer.fired(situation, playbook, tasks)
    await s.flow.audit(
        "concord",
        "playbook.fired",
        situation.id,
        playbook=playbook,
        version=version,
        revision=revision,
        tasks=",".join(x.id for x in tasks),
        held="for the panel" if review else "",
    )


async def held_back(s: Planning, situation: Situation, decision: PlaybookMatch) -> None:
    """Audit a suppressed or inhibited playbook once, with the reason."""
    key = f"{situation.id}|{decision.playbook}|{decision.status}"
    if key in s.fired:
        return
    s.fired[key] = 0
    s.flow.observer.held_back(situation, decision.playbook, decision.status, decision.reason)
    await s.flow.audit(
        "concord",
        f"playbook.{decision.status}",
        situation.id,
        playbook=decision.playbook,
        reason=decision.reason,
    )


async def plan_one(s: Planning, situation: Situation) -> None:
    """Every decision of a situation snapshot: plan what fired, audit what was held back."""
    for decision in situation.matches:
        if decision.status == "fired":
            await plan(s, situation, decision)
        else:
            await held_back(s, situation, decision)


async def run(s: Planning, stream: Any) -> None:
    topic = s.flow.topics.situations
    await consume(s.flow, "match", topic, stream, functools.partial(plan_one, s))


def register(
    app: faust.App, flow: Flow, directory: Directory, playbooks: LivePlaybooks, partitions: int
) -> None:
    """Create the stage's table and bind its agent."""
    s = Planning(flow, directory, playbooks, Table(app, "playbooks-fired", int, partitions))
    app.agent(flow.topics.situations.channel, name="concord.match")(functools.partial(run, s))
