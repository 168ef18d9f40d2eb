"""The task rules (`concord.core.tasks`): every state against every action, pinned.

The expected table is written out here, not read from the implementation: a wrong
entry in `ALLOWED` fails this test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
from typing import get_args

import pytest

from concord.core.refusal import Refused
from concord.core.tasks import (
    ACTIVE,
    FINAL,
    OPEN,
    STUCK,
    WORKING,
    Action,
    IllegalTaskTransition,
    escalates,
    is_mine,
    is_open,
    liaison_actions,
    refusal,
    transition,
)
from concord.streams.tasks import Task, TaskState
from tests.unit.factories import make_task

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)

#: state -> the actions it allows (and where each leads: the action's past participle).
EXPECTED: dict[str, set[str]] = {
    "pending": {"assign", "fail", "cancel"},
    "assigned": {"ack", "decline", "done", "escalate", "reassign", "cancel"},
    "escalated": {"ack", "decline", "done", "escalate", "reassign", "cancel"},
    "reassigned": {"ack", "decline", "done", "escalate", "reassign", "cancel"},
    "acknowledged": {"decline", "done", "reassign", "cancel"},
    "declined": {"reassign", "cancel"},
    "failed": {"reassign", "cancel"},
    "done": set(),
    "cancelled": set(),
}
LEADS_TO = {
    "assign": "assigned",
    "fail": "failed",
    "ack": "acknowledged",
    "decline": "declined",
    "done": "done",
    "escalate": "escalated",
    "reassign": "reassigned",
    "cancel": "cancelled",
}


def task(state: str) -> Task:
    return make_task(
        state=TaskState(state),
        created_at=T0,
        updated_at=T0,
        escalate_after=timedelta(minutes=30),
        depends_on=[],
    )


def test_the_table_covers_every_state_and_action() -> None:
    assert set(EXPECTED) == {s.value for s in TaskState}
    assert set(LEADS_TO) == set(get_args(Action))


@pytest.mark.parametrize(("state", "action"), list(product(EXPECTED, LEADS_TO)))
def test_every_state_against_every_action(state: str, action: Action) -> None:
    before = task(state)
    given = {"reason": "no capacity tonight", "assignee": "police-chief"}
    if action in EXPECTED[state]:
        assert refusal(before, action, **given) is None
        after = transition(before, action, T0 + timedelta(minutes=1), **given)
        assert after.state.value == LEADS_TO[action]
        assert after.updated_at > before.updated_at
        return
    refused = refusal(before, action, **given)
    assert isinstance(refused, Refused)
    assert refused.errors == []
    if state == "pending" and action in ("ack", "decline", "done"):
        expected = "the task is pending: it is on its way to its assignee: try again in a moment"
    else:
        expected = f"task task-1 is {state}: it cannot be {LEADS_TO[action]}"
    assert refused.reason.startswith(expected)
    with pytest.raises(IllegalTaskTransition) as raised:
        transition(before, action, T0, **given)
    assert str(raised.value) == refused.reason


def test_a_refusal_lists_what_the_person_may_do_instead() -> None:
    refused = refusal(task("acknowledged"), "ack")
    assert refused == Refused(
        "task task-1 is acknowledged: it cannot be acknowledged (possible: decline, done)"
    )
    refused = refusal(task("done"), "ack")
    assert refused == Refused("task task-1 is done: it cannot be acknowledged")


def test_a_pending_task_says_what_it_waits_for() -> None:
    held = make_task(state=TaskState.pending, awaiting="panel")
    assert refusal(held, "ack") == Refused("the task is pending: it waits for the expert panel")
    after = make_task(state=TaskState.pending, depends_on=["task-0"])
    assert refusal(after, "done") == Refused("the task is pending: it waits for task-0")


def test_what_actions_need_is_about_the_request() -> None:
    refused = refusal(task("assigned"), "decline", reason="  ")
    assert refused == Refused(
        "a decline needs a reason",
        errors=[{"loc": "reason", "msg": "a decline needs a reason"}],
    )
    refused = refusal(task("assigned"), "escalate")
    assert refused is not None
    assert refused.errors == [{"loc": "assignee", "msg": "escalate needs the new assignee"}]
    unknown = refusal(task("assigned"), "shout")
    assert unknown is not None
    assert unknown.errors == [{"loc": "action", "msg": "unknown action"}]
    moved = transition(
        task("declined"), "reassign", T0, assignee="ngo-duty", agency="ngo-antiracism"
    )
    assert (moved.state, moved.assignee, moved.agency, moved.channels) == (
        TaskState.reassigned,
        "ngo-duty",
        "ngo-antiracism",
        [],
    )


def test_the_state_sets() -> None:
    S = TaskState
    assert {S.done, S.cancelled} == FINAL
    assert {S.declined, S.failed} == STUCK
    assert {S.assigned, S.escalated, S.reassigned} == WORKING
    assert {S.assigned, S.escalated, S.reassigned, S.acknowledged} == ACTIVE
    assert {S.pending, S.assigned, S.escalated, S.reassigned, S.acknowledged} == OPEN
    assert not is_open(task("declined"))
    assert is_open(task("escalated"))
    # Acknowledging stops escalation.
    assert escalates(task("assigned"))
    assert not escalates(task("acknowledged"))


def test_what_a_liaison_is_offered() -> None:
    assert liaison_actions(task("assigned")) == ["ack", "decline", "done"]
    assert liaison_actions(task("acknowledged")) == ["decline", "done"]
    assert liaison_actions(task("declined")) == [] == liaison_actions(task("done"))
    # A page shows nothing to do for a pending task; its message announces it as assigned.
    assert liaison_actions(task("pending")) == []
    assert liaison_actions(task("pending"), announced=True) == ["ack", "decline", "done"]


MINE = [
    # role, person, agency, the task's agency, its assignee, on "My tasks"
    ("liaison", "ana", "police", "police", "other", True),  # the agency's
    ("liaison", "ana", "police", "schools", "ana", True),  # given to her
    ("liaison", "ana", "police", "schools", "other", False),
    ("coordinator", "cora", None, "police", "other", False),  # the board shows it
    ("coordinator", "cora", None, "police", "cora", True),  # given to her
    ("panel", "pia", None, "police", "pia", False),
]


@pytest.mark.parametrize(("role", "person", "agency", "of", "assignee", "mine"), MINE)
def test_whose_list_a_task_is_on(
    role: str, person: str, agency: str | None, of: str, assignee: str, mine: bool
) -> None:
    task = make_task(agency=of, assignee=assignee)
    assert is_mine(task, person, role, agency) is mine
