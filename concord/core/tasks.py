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

from concord.core.refusal import Refused
from concord.streams.tasks import PEOPLE_ACTIONS, Task, TaskState

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

#: The actions liaisons take (the others are the flow's and the coordinators').
PEOPLE: frozenset[Action] = frozenset(a for a in PEOPLE_ACTIONS if a in TARGET)

#: Nothing leaves these states.
FINAL = frozenset(s for s, actions in ALLOWED.items() if not actions)
#: Given up by its agency (declined) or by every channel (failed): waits for a coordinator.
STUCK = frozenset({S.declined, S.failed})
#: With its assignee and not yet acknowledged: these escalate when nobody answers.
WORKING = frozenset({S.assigned, S.escalated, S.reassigned})
#: With its assignee (acknowledged or not): they may see what the task needs to be done.
ACTIVE = WORKING | {S.acknowledged}
#: Someone still has to do something about it.
OPEN = frozenset(TaskState) - FINAL - STUCK


class IllegalTaskTransition(ValueError):
    """An action the task's state does not allow, or one missing what it needs."""


def refusal(
    task: Task, action: str, *, reason: str | None = None, assignee: str | None = None
) -> Refused | None:
    """Why `action` cannot be taken on `task` now (None: it can).

    A refusal with `errors` is about the request (a decline without its reason); one
    without is about the task's state. The web answers them 422 and 409, the track stage
    audits them; both ask here.
    """
    if action not in TARGET:
        return Refused(f"no such action {action!r}", errors=[_error("action", "unknown action")])
    allowed = ALLOWED[task.state]
    if action not in allowed:
        if task.state == S.pending and action in PEOPLE:
            return Refused(f"the task is pending: {waits_for(task)}")
        among = sorted(a for a in allowed if (a in PEOPLE) == (action in PEOPLE))
        possible = f" (possible: {', '.join(among)})" if among else ""
        past = TARGET[action].value
        return Refused(f"task {task.id} is {task.state.value}: it cannot be {past}{possible}")
    if action == "decline" and not (reason or "").strip():
        why = "a decline needs a reason"
        return Refused(why, errors=[_error("reason", why)])
    if action in ("escalate", "reassign") and not assignee:
        why = f"{action} needs the new assignee"
        return Refused(why, errors=[_error("assignee", why)])
    return None


def _error(loc: str, msg: str) -> dict[str, str]:
    return {"loc": loc, "msg": msg}


def waits_for(task: Task) -> str:
    """What a pending task waits for, as a person reads it."""
    if task.awaiting:
        return "it waits for the expert panel"
    if task.depends_on:
        return f"it waits for {', '.join(task.depends_on)}"
    return "it is on its way to its assignee: try again in a moment"


def transition(
    task: Task,
    action: Action,
    at: datetime,
    *,
    reason: str | None = None,
    assignee: str | None = None,
    agency: str | None = None,
) -> Task:
    """The task after `action`; raises IllegalTaskTransition with the refusal's reason."""
    refused = refusal(task, action, reason=reason, assignee=assignee)
    if refused is not None:
        raise IllegalTaskTransition(refused.reason)
    update: dict[str, object] = {"state": TARGET[action], "updated_at": at}
    if assignee:
        update["assignee"] = assignee
    if agency and agency != task.agency:
        # Another agency: its own channels, not the ones planned for the first.
        update.update(agency=agency, channels=[])
    return task.model_copy(update=update)


def is_open(task: Task) -> bool:
    """Whether the task still waits for someone (not final, not declined or failed)."""
    return task.state in OPEN


def liaison_actions(task: Task, *, announced: bool = False) -> list[Action]:
    """The actions a liaison's page (or, `announced`, the message that gives them the
    task) offers for `task`, in their order. A message announces a pending task as it
    will be once delivered: it goes out before the task is `assigned`."""
    state = S.assigned if announced and task.state == S.pending else task.state
    return [a for a in ("ack", "decline", "done") if a in ALLOWED[state]]


def escalates(task: Task) -> bool:
    """Whether an unacknowledged task should escalate at its `escalate_after`."""
    return task.state in WORKING and task.escalate_after is not None


def may_act(task: Task, person: str, role: str, agency: str | None) -> bool:
    """Coordinators act on every task; a liaison on their agency's, or one given to them."""
    return role == "coordinator" or (
        role == "liaison" and (agency == task.agency or person == task.assignee)
    )


def is_mine(task: Task, person: str, role: str, agency: str | None) -> bool:
    """Whether a task is on the person's own list ("My tasks"): a liaison's agency's or
    given to them; a coordinator's only when given to them (the board shows the rest)."""
    if role == "coordinator":
        return person == task.assignee
    return may_act(task, person, role, agency)
