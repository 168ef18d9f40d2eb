"""Match: `concord.situations` -> tasks of the playbooks that fired -> `concord.task-events`.

The correlation stage decided which playbooks fire (`Situation.matches`); this agent
plans their tasks, once per situation and playbook, with the playbook version and file
revision that decided. Tasks of a playbook with `review` go to the review agent, which
holds them until the panel approves; the others go to the track stage, which dispatches
them when nothing holds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume
from concord.core.gate import propose
from concord.core.planning import PlanningError, plan_or_refuse
from concord.streams import topics as t
from concord.streams.audit import DeadLetter
from concord.streams.reviews import ReviewEvent
from concord.streams.situations import PlaybookMatch, Situation
from concord.streams.tasks import TaskEvent
from concord.types import utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    fired = c.app.Table("playbooks-fired", default=None, partitions=c.settings.partitions)
    events_out = c.topics.task_events
    dead_out = c.topics.deadletter
    reviews_out = c.topics.review_events

    async def refuse(situation: Situation, exc: PlanningError) -> None:
        raw = situation.model_dump_json().encode()
        dead = DeadLetter(
            reason="playbook failed",
            errors=[{"loc": exc.playbook_id, "msg": exc.reason}],
            original=c.sealer.seal(raw),
            original_size=len(raw),
            topic=t.SITUATIONS.name,
            stage="match",
            key=situation.id,
        )
        await dead_out.send(key=situation.id, value=dead)
        c.metrics.deadletters.labels("playbook failed").inc()
        c.metrics.stage_failures.labels("match").inc()
        await c.audit(
            "concord", "playbook.failed", situation.id, playbook=exc.playbook_id, reason=exc.reason
        )

    async def plan(situation: Situation, decision: PlaybookMatch) -> None:
        key = f"{situation.id}|{decision.playbook}"
        if fired.get(key) is not None:
            return
        try:
            playbook = c.playbooks.get(decision.playbook, decision.version)
            if playbook is None:
                raise PlanningError(decision.playbook, f"version {decision.version} not loaded")
            tasks = plan_or_refuse(
                situation,
                playbook,
                c.directory,
                utcnow(),
                decision.revision,
                decision.signals or None,
            )
        except PlanningError as exc:
            # Nothing is lost: the situation goes to the dead-letter topic with the
            # reason, the coordinator sees it in the audit, other playbooks go on.
            fired[key] = -1
            await refuse(situation, exc)
            return
        review = playbook.review is not None and playbook.review.required
        if review:
            # The panel validates the analysis first: the review agent holds the tasks.
            proposal = propose(playbook, tasks, decision.revision)
            event = ReviewEvent(
                situation_id=situation.id, kind="open", situation=situation, proposal=proposal
            )
            await reviews_out.send(key=situation.id, value=event)
        else:
            # Task ids are deterministic: a replay after a crash re-creates the same
            # tasks, and the track stage creates each task id once.
            for task in tasks:
                created = TaskEvent(task_id=task.id, action="created", task=task)
                await events_out.send(key=task.id, value=created)
        fired[key] = playbook.version
        c.metrics.playbooks_fired.labels(playbook.id).inc()
        c.metrics.tasks.inc(len(tasks))
        c.observer.fired(situation, playbook.id, tasks)
        await c.audit(
            "concord",
            "playbook.fired",
            situation.id,
            playbook=playbook.id,
            version=str(playbook.version),
            revision=decision.revision,
            tasks=",".join(x.id for x in tasks),
            held="for the panel" if review else "",
        )

    async def held_back(situation: Situation, decision: PlaybookMatch) -> None:
        """Audit a suppressed or inhibited playbook once, with the reason."""
        key = f"{situation.id}|{decision.playbook}|{decision.status}"
        if fired.get(key) is None:
            fired[key] = 0
            c.observer.held_back(situation, decision.playbook, decision.status, decision.reason)
            await c.audit(
                "concord",
                f"playbook.{decision.status}",
                situation.id,
                playbook=decision.playbook,
                reason=decision.reason,
            )

    async def match_one(situation: Situation) -> None:
        for decision in situation.matches:
            if decision.status == "fired":
                await plan(situation, decision)
            else:
                await held_back(situation, decision)

    @c.app.agent(c.topics.situations.channel, name="concord.match")
    async def match_agent(stream: Any) -> None:
        await consume(c, "match", c.topics.situations, stream, match_one)
