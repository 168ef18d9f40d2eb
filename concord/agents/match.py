"""Match: `concord.situations` -> playbooks -> `concord.tasks` (once per situation+playbook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concord.core.planning import plan_tasks
from concord.streams import topics as t
from concord.streams.models import Situation, utcnow

if TYPE_CHECKING:
    from concord.app import Concord


def register(c: Concord) -> None:
    fired = c.app.Table("playbooks-fired", default=None, partitions=c.settings.partitions)
    tasks_out = c.topics[t.TASKS.name]
    state_out = c.topics[t.TASK_STATE.name]

    @c.app.agent(c.topics[t.SITUATIONS.name], name="concord.match")
    async def match_agent(stream: Any) -> None:
        situation: Situation
        async for situation in stream:
            for playbook in c.playbooks.matcher.match(situation):
                key = f"{situation.id}|{playbook.id}"
                if fired.get(key) is not None:
                    continue
                tasks = plan_tasks(situation, playbook, c.directory, utcnow())
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
