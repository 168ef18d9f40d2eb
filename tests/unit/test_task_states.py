"""The task state machine, exhaustively: every state against every action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
from typing import get_args

import pytest

from concord.core.tasks import (
    ALLOWED,
    FINAL,
    TARGET,
    Action,
    IllegalTaskTransition,
    escalates,
    is_open,
    transition,
)
from concord.streams.tasks import Task, TaskState
from tests.unit.conftest import make_task

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)


def task(state: TaskState) -> Task:
    return make_task(
        state=state, created_at=T0, updated_at=T0, escalate_after=timedelta(minutes=30)
    )


@pytest.mark.parametrize(("state", "action"), list(product(TaskState, get_args(Action))))
def test_every_state_against_every_action(state: TaskState, action: Action) -> None:
    before = task(state)
    kwargs = {"reason": "no capacity tonight", "assignee": "police-chief"}
    if action in ALLOWED[state]:
        after = transition(before, action, T0 + timedelta(minutes=1), **kwargs)  # type: ignore[arg-type]
        assert after.state == TARGET[action] and after.updated_at > before.updated_at
    else:
        with pytest.raises(IllegalTaskTransition, match=f"is {state}: it cannot be {action}"):
            transition(before, action, T0, **kwargs)  # type: ignore[arg-type]


def test_what_actions_need() -> None:
    with pytest.raises(IllegalTaskTransition, match="a decline needs a reason"):
        transition(task(TaskState.assigned), "decline", T0, reason="  ")
    with pytest.raises(IllegalTaskTransition, match="escalate needs the new assignee"):
        transition(task(TaskState.assigned), "escalate", T0)
    moved = transition(
        task(TaskState.declined), "reassign", T0, assignee="ngo-duty", agency="ngo-antiracism"
    )
    assert (moved.state, moved.assignee, moved.agency) == (
        TaskState.reassigned,
        "ngo-duty",
        "ngo-antiracism",
    )


def test_final_states_and_escalation() -> None:
    assert {TaskState.done, TaskState.cancelled} == FINAL
    assert not is_open(task(TaskState.declined)) and is_open(task(TaskState.escalated))
    assert escalates(task(TaskState.assigned)) and not escalates(task(TaskState.acknowledged))
    # Acknowledging stops escalation: an acknowledged task cannot be escalated.
    assert "escalate" not in ALLOWED[TaskState.acknowledged]
