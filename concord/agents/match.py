"""Match: `concord.situations` -> playbooks -> `concord.tasks` (once per situation+playbook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.core.planning import PlanningError, plan_or_refuse
from concord.streams import topics as t
from concord.streams.models import DeadLetter, Situation, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    fired = c.app.Table("playbooks-fired", default=None, partitions=c.settings.partitions)
    tasks_out = c.topics[t.TASKS.name]
    dead_out = c.topics[t.DEADLETTER.name]

    async def refuse(situation: Situation, exc: PlanningError) -> None:
        raw = situation.model_dump_json().encode()
        dead = DeadLetter(
            reason="playbook failed",
            errors=[{"loc": exc.playbook_id, "msg": exc.reason}],
            original=c.sealer.seal(raw),
            original_size=len(raw),
            topic=t.SITUATIONS.name,
        )
        await dead_out.send(key=situation.id, value=dead)
        c.metrics.deadletters.labels("playbook failed").inc()
        await c.audit(
            "concord", "playbook.failed", situation.id, playbook=exc.playbook_id, reason=exc.reason
        )

    state_out = c.topics[t.TASK_STATE.name]

    @c.app.agent(c.topics[t.SITUATIONS.name], name="concord.match")
    async def match_agent(stream: Any) -> None:
        situation: Situation
        async for situation in stream:
            for playbook in c.playbooks.matcher.match(situation):
                key = f"{situation.id}|{playbook.id}"
                if fired.get(key) is not None:
                    continue
                try:
                    tasks = plan_or_refuse(situation, playbook, c.directory, utcnow())
                except PlanningError as exc:
                    # Nothing is lost: the situation goes to the dead-letter topic with the
                    # reason, the coordinator sees it in the audit, other playbooks go on.
                    fired[key] = -1
                    await refuse(situation, exc)
                    continue
                # Task ids are deterministic: a replay after a crash re-sends the same
                # tasks, and dispatch delivers each task id once.
                for task in tasks:
                    await state_out.send(key=task.id, value=task)
                    await tasks_out.send(key=task.id, value=task)
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
                    tasks=",".join(x.id for x in tasks),
                )
