"""A task's life: the state machine every change of a task goes through. Pure.

```
pending ──assign──► assigned ──ack──► acknowledged ──done──► done
   │                  │  ▲               │
   │                  │  └─ reassign ◄───┤ (coordinator, or the fallback after a decline)
   │                  ├──escalate──► escalated (no acknowledgement within escalate_after)
   │                  └──decline (reason)──► declined ──reassign──► reassigned
   └──cancel (situation closed, panel rejected)──► cancelled        (from any open state)
```

- `pending`: waiting for its prerequisites or the panel; `assign` when it is delivered,
  `fail` when no channel could deliver it.
- `ack` stops escalation; `done` may come without an `ack` (the work is done).
- `decline` needs a reason; the coordinator and the playbook's fallback agency are told,
  and the fallback gets the task by `reassign`.
- `escalate` moves the task to the next person of the agency's chain (`assignee`), then
  to the coordinator; it is refused once the task is acknowledged.
- `done`, `cancelled` are final; nothing leaves them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from concord.streams.tasks import Task, TaskState

S = TaskState

Action = Literal["assign", "fail", "ack", "decline", "done", "escalate", "reassign", "cancel"]

#: The state each action leads to.
TARGET: dict[Action, TaskState] = {
    "assign": S.assigned,
    "fail": S.failed,
    "ack": S.acknowledged,
    "decline": S.declined,
    "done": S.done,
    "escalate": S.escalated,
    "reassign": S.reassigned,
    "cancel": S.cancelled,
}

_WORKING = frozenset({S.assigned, S.escalated, S.reassigned})

#: Which actions each state allows.
ALLOWED: dict[TaskState, frozenset[Action]] = {
    S.pending: frozenset({"assign", "fail", "cancel"}),
    S.assigned: frozenset({"ack", "decline", "done", "escalate", "reassign", "cancel"}),
    S.escalated: frozenset({"ack", "decline", "done", "escalate", "reassign", "cancel"}),
    S.reassigned: frozenset({"ack", "decline", "done", "escalate", "reassign", "cancel"}),
    S.acknowledged: frozenset({"decline", "done", "reassign", "cancel"}),
    S.declined: frozenset({"reassign", "cancel"}),
    S.failed: frozenset({"reassign", "cancel"}),
    S.done: frozenset(),
    S.cancelled: frozenset(),
}

FINAL = frozenset(s for s, actions in ALLOWED.items() if not actions)


class IllegalTaskTransition(ValueError):
    """An action the task's state does not allow, or one missing what it needs."""

    def __init__(self, task: Task, action: str, why: str = "") -> None:
        allowed = ", ".join(sorted(ALLOWED[task.state])) or "nothing (final)"
        super().__init__(
            why or f"task {task.id} is {task.state}: it cannot be {action} (allowed: {allowed})"
        )


def transition(
    task: Task,
    action: Action,
    at: datetime,
    *,
    reason: str | None = None,
    assignee: str | None = None,
    agency: str | None = None,
) -> Task:
    """The task after `action`; raises IllegalTaskTransition."""
    if action not in ALLOWED[task.state]:
        raise IllegalTaskTransition(task, action)
    if action == "decline" and not (reason or "").strip():
        raise IllegalTaskTransition(task, action, "a decline needs a reason")
    if action in ("escalate", "reassign") and not assignee:
        raise IllegalTaskTransition(task, action, f"{action} needs the new assignee")
    update: dict[str, object] = {"state": TARGET[action], "updated_at": at}
    if assignee:
        update["assignee"] = assignee
    if agency and agency != task.agency:
        # Another agency: its own channels, not the ones planned for the first.
        update.update(agency=agency, channels=[])
    return task.model_copy(update=update)


def is_open(task: Task) -> bool:
    """Whether the task still waits for someone (not final, not declined or failed)."""
    return task.state not in FINAL and task.state not in (S.declined, S.failed)


def escalates(task: Task) -> bool:
    """Whether an unacknowledged task should escalate at its `escalate_after`."""
    return task.state in _WORKING and task.escalate_after is not None


def may_act(task: Task, person: str, role: str, agency: str | None) -> bool:
    """Coordinators act on every task; a liaison on their agency's, or one given to them."""
    return role == "coordinator" or (
        role == "liaison" and (agency == task.agency or person == task.assignee)
    )
