"""Plan: a situation's snapshot -> tasks of the playbooks that fired -> `concord.task-events`.

The correlation stage decided which playbooks fire (`Situation.matches`); this stage
plans their tasks, once per situation and playbook, with the playbook version and file
revision that decided. Tasks of a playbook with `review` go to the panel's gate, which
holds them until the panel approves; the others go to the track stage, which dispatches
them when nothing holds them.

It has no agent of its own: it runs inside the correlation stage's agent, on each
snapshot that stage publishes, as one keyed step (`correlate.correlate_one`). A
situation is planned by the worker that owns its zone, in the batch of the signal that
changed it, with no hop through `concord.situations`: a hop costs a record's whole way
through Faust, more than the planning itself. Its table's entries live in the zone's
partition, beside the area state; a crash in the middle of a batch replays the batch,
and the table makes each plan once.

A playbook that fired and holds again for a later signal (a repeat) is never silent:
its `per` rule (`concord.core.planning.repeat`) makes new tasks, or tells its tasks
(`repeat` events: the track stage tells whoever has them in hand). Each repeat is
audited (`playbook.repeated`).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core.commands import plan_command
from concord.core.gate import propose
from concord.core.planning import PlanningError, Repeat, area_of, plan_or_refuse, repeat
from concord.playbooks.schema import Playbook
from concord.streams import topics as t
from concord.streams.patches import trace
from concord.streams.reviews import ReviewEvent
from concord.streams.situations import PlaybookMatch, Situation, SituationState
from concord.streams.tables import Shape, Table
from concord.streams.tasks import Task, TaskEvent
from concord.worker.live import LivePlaybooks
from concord.worker.runtime import Flow, Where


@dataclass(frozen=True)
class Planning:
    """What the planning stage reads and writes."""

    flow: Flow
    directory: Directory
    playbooks: LivePlaybooks
    #: "situation|playbook" -> the version that fired (-1: it failed); with "|status"
    #: appended, 0 for a suppression or inhibition already audited; with "|area|code",
    #: the task set that covers the area (0: the first, 1: its own `@code`); with
    #: "|repeat|signal", 1 once that repeat was handled; also "<area key>|full", 1 once
    #: the coordinators were told the area is full (`correlate.tell_full`)
    fired: Table[int]


async def refuse(s: Planning, situation: Situation, exc: PlanningError) -> None:
    """A playbook that cannot plan: dead-lettered with why, audited. The letter is a
    `plan` command for the situation, keyed by its zone: `concord deadletter replay`,
    once the playbook or the directory is fixed, has the correlation stage plan it again
    (`again`)."""
    command = plan_command(situation, f"{exc.playbook_id}: {exc.reason}")
    errors = [{"loc": exc.playbook_id, "msg": exc.reason}]
    at = Where(t.SITUATION_COMMANDS.name, s.directory.zone(situation.area))
    raw = command.model_dump_json().encode()
    await s.flow.deadletter(
        "plan", at, raw, "playbook failed", errors, failure=False, audited=False
    )
    s.flow.metrics.stage_failures.labels("plan").inc()
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
    review = await hand_over(s, situation, playbook, tasks, decision.revision)
    s.fired[key] = playbook.version
    await fired(s, situation, playbook.id, str(playbook.version), decision.revision, tasks, review)


async def create(s: Planning, tasks: list[Task]) -> None:
    """Put new tasks on `concord.task-events` as `created`."""
    # Task ids are deterministic: a replay after a crash re-creates the same tasks, and
    # the track stage creates each task id once.
    for task in tasks:
        created = TaskEvent(task_id=task.id, action="created", task=task)
        await s.flow.topics.task_events.send(key=task.id, value=created)
        trace.info("plan: %s created", task.id)


async def fired(
    s: Planning,
    situation: Situation,
    playbook: str,
    version: str,
    revision: str,
    tasks: list[Task],
    review: bool,
) -> None:
    """Plan the tasks of a playbook that fired for a situation, once."""
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


async def repeated(s: Planning, situation: Situation, decision: PlaybookMatch) -> None:
    """Each repeat of a playbook that fired, once (see the module)."""
    key = f"{situation.id}|{decision.playbook}"
    if s.fired.get(key) in (None, -1):
        return  # it did not plan (refused, and dead-lettered): nothing to tell
    for signal_id in decision.repeats:
        handled = f"{key}|repeat|{signal_id}"
        if handled in s.fired:
            continue
        playbook = s.playbooks.get(decision.playbook, decision.version)
        area = area_of(situation, signal_id)
        # The first set covers where its triggers happened (the situation says so); a
        # later set's area is recorded when it is made.
        first = {area_of(situation, t) for t in decision.signals} or {situation.area}
        covered = 0 if area in first else s.fired.get(f"{key}|area|{area}")
        try:
            if playbook is None:
                raise PlanningError(decision.playbook, f"version {decision.version} not loaded")
            suffix = None if covered is None else ("" if covered == 0 else f"@{area}")
            done = repeat(
                situation, playbook, signal_id, suffix, s.directory, utcnow(), decision.revision
            )
        except PlanningError as exc:
            s.fired[handled] = -1
            await refuse(s, situation, exc)
            continue
        await carry_repeat(s, situation, decision, done, playbook)
        s.fired[handled] = 1


async def hand_over(
    s: Planning, situation: Situation, playbook: Playbook, tasks: list[Task], revision: str
) -> bool:
    """Planned tasks go to the panel's gate when the playbook needs its review (the gate
    holds them), else to the track stage. Returns whether they went to the panel."""
    review = playbook.review is not None and playbook.review.required
    if review:
        proposal = propose(playbook, tasks, revision)
        event = ReviewEvent(
            situation_id=situation.id, kind="open", situation=situation, proposal=proposal
        )
        await s.flow.topics.review_events.send(key=situation.id, value=event)
    else:
        await create(s, tasks)
    return review


async def carry_repeat(
    s: Planning, situation: Situation, decision: PlaybookMatch, done: Repeat, playbook: Playbook
) -> None:
    """New tasks (through the panel when the playbook needs it), or the tasks told."""
    key = f"{situation.id}|{decision.playbook}"
    if done.new:
        await hand_over(s, situation, playbook, done.new, decision.revision)
        if done.suffix.startswith("@"):
            s.fired[f"{key}|area|{done.area}"] = 1
    ref = next(r for r in situation.signals if r.id == done.signal)
    for task_id in done.told:
        told = TaskEvent(
            task_id=task_id,
            action="repeat",
            signal=done.signal,
            area=done.area,
            occurred_at=ref.occurred_at,
        )
        await s.flow.topics.task_events.send(key=task_id, value=told)
    await s.flow.audit(
        "concord",
        "playbook.repeated",
        situation.id,
        playbook=decision.playbook,
        signal=done.signal,
        area=done.area,
        created=",".join(x.id for x in done.new),
        told=",".join(done.told),
    )


async def again(s: Planning, situation: Situation) -> None:
    """Plan a situation again after a fix: what failed (-1 in the table) is tried again,
    what was planned is not made twice."""
    for decision in situation.matches:
        key = f"{situation.id}|{decision.playbook}"
        for entry in [key, *(f"{key}|repeat|{r}" for r in decision.repeats)]:
            if s.fired.get(entry) == -1:
                s.fired.pop(entry)
    await plan_one(s, situation)


async def plan_one(s: Planning, situation: Situation) -> None:
    """Every decision of a situation snapshot: plan what fired (and its repeats), audit
    what was held back."""
    for decision in situation.matches:
        if decision.status == "fired":
            await plan(s, situation, decision)
            await repeated(s, situation, decision)
        else:
            await held_back(s, situation, decision)
    waiting = situation.state in (SituationState.open, SituationState.under_review)
    if len(situation.signals) > 1 and waiting:
        # The gate makes a new analysis version when its review is pending (else nothing).
        joined = ReviewEvent(situation_id=situation.id, kind="joined", situation=situation)
        await s.flow.topics.review_events.send(key=situation.id, value=joined)


def register(
    app: faust.App, flow: Flow, directory: Directory, playbooks: LivePlaybooks, shape: Shape
) -> Planning:
    """Create the stage's table; the correlation stage's agent runs it (`plan_one`)."""
    return Planning(flow, directory, playbooks, Table(app, "playbooks-fired", int, shape))
