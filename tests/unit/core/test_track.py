"""The track stage: dispatch when ready, dependencies, decline and fallback, escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from concord.config.directory import Directory
from concord.core.planning import plan_tasks
from concord.core.refusal import Refused
from concord.core.track import Dispatch, Emit, Publish, Tell, UpdateSlack, handle
from concord.playbooks.loader import load_playbooks
from concord.streams.situations import Situation
from concord.streams.tasks import Task, TaskEvent, TaskState, TrackRecord
from tests.unit.factories import ROOT

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def tasks(situation_factory: Callable[..., Situation], directory: Directory) -> dict[str, Task]:
    loaded = load_playbooks([ROOT / "playbooks"], directory)
    pb = next(p for p in loaded.playbooks if p.id == "racist-assault")
    return {t.task_key: t for t in plan_tasks(situation_factory(severity=4), pb, directory, T0)}


class Flow:
    """Records by task id, fed events like the agent does (emitted events included)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.records: dict[str, TrackRecord] = {}
        self.effects: list[Any] = []

    def send(self, event: TaskEvent, at: datetime = T0) -> list[Any]:
        out: list[Any] = []
        queue = [event]
        while queue:
            ev = queue.pop(0)
            record, effects = handle(self.records.get(ev.task_id), ev, self.directory, at)
            if record is not None:
                self.records[ev.task_id] = record
            out += effects
            queue += [e.event for e in effects if isinstance(e, Emit)]
        self.effects += out
        return out

    def task(self, task_id: str) -> Task:
        found = self.records[task_id].task
        assert found is not None
        return found


def dispatched(effects: list[Any]) -> list[tuple[str, str | None]]:
    return [(e.task.task_key, e.task.assignee) for e in effects if isinstance(e, Dispatch)]


def test_ready_task_goes_out_and_ack_stops_escalation(
    tasks: dict[str, Task], directory: Directory
) -> None:
    flow = Flow(directory)
    protect = tasks["protect"]
    effects = flow.send(TaskEvent(task_id=protect.id, action="created", task=protect))
    assert dispatched(effects) == [("protect", "police-duty")]
    flow.send(
        TaskEvent(
            task_id=protect.id,
            action="delivered",
            ok=True,
            channels=["slack"],
            slack_ref="C-POLICE/1.0",
        )
    )
    record = flow.records[protect.id]
    assert flow.task(protect.id).state == TaskState.assigned
    assert record.escalate_at == T0 + timedelta(minutes=30)
    assert record.remind_at == T0 + timedelta(hours=2) - timedelta(minutes=30)
    effects = flow.send(
        TaskEvent(task_id=protect.id, action="ack", actor="police-duty", via="slack"),
        T0 + timedelta(minutes=5),
    )
    assert flow.task(protect.id).state == TaskState.acknowledged
    assert flow.records[protect.id].escalate_at is None
    assert (
        UpdateSlack(flow.task(protect.id), "C-POLICE/1.0", "police-duty", "police-duty") in effects
    )
    step = flow.records[protect.id].history[-1]
    assert (step.action, step.actor, step.via, step.before) == (
        "ack",
        "police-duty",
        "slack",
        "assigned",
    )
    # An illegal move is refused with the reason; a replayed creation changes nothing.
    effects = flow.send(TaskEvent(task_id=protect.id, action="ack"))
    assert isinstance(effects[0], Refused)
    assert "is acknowledged: it cannot be ack" in effects[0].reason
    assert flow.send(TaskEvent(task_id=protect.id, action="created", task=protect)) == []


def test_dependents_wait_and_are_released_in_order(
    tasks: dict[str, Task], directory: Directory
) -> None:
    flow = Flow(directory)
    watch, protect = tasks["schools-watch"], tasks["protect"]
    # The dependent arrives first: it registers with its prerequisite (a stub for now).
    effects = flow.send(TaskEvent(task_id=watch.id, action="created", task=watch))
    assert dispatched(effects) == []
    assert flow.records[protect.id].dependents == [watch.id]
    assert dispatched(flow.send(TaskEvent(task_id=protect.id, action="created", task=protect))) == [
        ("protect", "police-duty")
    ]
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True))
    flow.send(TaskEvent(task_id=protect.id, action="ack", actor="police-duty"))
    effects = flow.send(TaskEvent(task_id=protect.id, action="done", actor="police-duty"))
    assert dispatched(effects) == [("schools-watch", "schools-duty")]
    assert flow.records[watch.id].prerequisites == {protect.id: "done"}


def test_a_declined_prerequisite_holds_or_releases_per_playbook(
    tasks: dict[str, Task], directory: Directory
) -> None:
    for release in (False, True):
        flow = Flow(directory)
        watch = tasks["schools-watch"].model_copy(update={"release_on_decline": release})
        protect = tasks["protect"]
        flow.send(TaskEvent(task_id=protect.id, action="created", task=protect))
        flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True))
        flow.send(TaskEvent(task_id=watch.id, action="created", task=watch))
        effects = flow.send(
            TaskEvent(
                task_id=protect.id, action="decline", actor="police-duty", reason="no patrol free"
            )
        )
        assert dispatched(effects) == ([("schools-watch", "schools-duty")] if release else [])
        notes = [e for e in effects if isinstance(e, Tell) and e.kind == "released_with_note"]
        assert [n.to for n in notes] == ([["schools-duty"]] if release else [])


def test_decline_needs_a_reason_and_reaches_the_fallback(
    tasks: dict[str, Task], directory: Directory
) -> None:
    flow = Flow(directory)
    support = tasks["support"]
    flow.send(TaskEvent(task_id=support.id, action="created", task=support))
    flow.send(TaskEvent(task_id=support.id, action="delivered", ok=True))
    effects = flow.send(TaskEvent(task_id=support.id, action="decline", actor="vs-duty"))
    assert isinstance(effects[0], Refused)
    assert "needs a reason" in effects[0].reason
    effects = flow.send(
        TaskEvent(
            task_id=support.id,
            action="decline",
            actor="vs-duty",
            reason="no French-speaking counsellor today",
        )
    )
    told = [e for e in effects if isinstance(e, Tell)]
    assert told[0].kind == "declined"
    assert told[0].to == ["coord"]
    assert "no French-speaking counsellor today" in told[0].note
    assert dispatched(effects) == [("support", "ngo-duty")]
    moved = flow.task(support.id)
    assert (moved.state, moved.agency) == (TaskState.reassigned, "ngo-antiracism")
    assert [s.action for s in flow.records[support.id].history] == ["assign", "decline", "reassign"]


def test_unacknowledged_task_escalates_along_the_chain(
    tasks: dict[str, Task], directory: Directory
) -> None:
    flow = Flow(directory)
    protect = tasks["protect"]
    flow.send(TaskEvent(task_id=protect.id, action="created", task=protect))
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True))

    def tick(at: datetime) -> list[Any]:
        deadline = flow.records[protect.id].escalate_at
        return flow.send(TaskEvent(task_id=protect.id, action="tick", deadline=deadline), at)

    at = T0 + timedelta(minutes=30)
    assert flow.send(TaskEvent(task_id=protect.id, action="tick", deadline=T0), at) == []
    assert dispatched(tick(at)) == [("protect", "police-chief")]
    assert flow.task(protect.id).state == TaskState.escalated
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True), at)
    at += timedelta(minutes=30)
    effects = tick(at)
    assert dispatched(effects) == [("protect", "coord")]
    assert any(isinstance(e, Tell) and e.kind == "escalated" for e in effects)
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True), at)
    effects = tick(at + timedelta(minutes=30))
    told = [e for e in effects if isinstance(e, Tell) and e.kind == "escalated"]
    assert dispatched(effects) == []
    assert "no acknowledgement" in told[0].note
    assert flow.records[protect.id].escalate_at is None


def test_reminder_before_due_and_release_by_the_panel(
    tasks: dict[str, Task], directory: Directory
) -> None:
    flow = Flow(directory)
    protect = tasks["protect"].model_copy(update={"awaiting": "panel"})
    assert (
        dispatched(flow.send(TaskEvent(task_id=protect.id, action="created", task=protect))) == []
    )
    released = TaskEvent(task_id=protect.id, action="release", task=protect)
    assert dispatched(flow.send(released)) == [("protect", "police-duty")]
    assert flow.send(released) == []  # replayed
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True))
    deadline = flow.records[protect.id].remind_at
    effects = flow.send(TaskEvent(task_id=protect.id, action="tick", deadline=deadline))
    assert [(e.kind, e.to) for e in effects if isinstance(e, Tell)] == [
        ("reminder", ["police-duty"])
    ]
    assert all(not isinstance(e, Publish) for e in effects)


def test_a_replayed_creation_dispatches_a_task_left_pending(
    tasks: dict[str, Task], directory: Directory
) -> None:
    # The stage recorded the task, then stopped before its dispatch went out: the event
    # comes again after the restart (its offset was not committed).
    flow = Flow(directory)
    protect = tasks["protect"]
    created = TaskEvent(task_id=protect.id, action="created", task=protect)
    assert dispatched(flow.send(created)) == [("protect", "police-duty")]
    assert dispatched(flow.send(created)) == [("protect", "police-duty")]  # again, once more
    flow.send(TaskEvent(task_id=protect.id, action="delivered", ok=True, channels=["email"]))
    assert flow.task(protect.id).state == TaskState.assigned
    assert flow.send(created) == []  # on its way: a replay changes nothing


def spelled(effects: list[Any]) -> list[str]:
    out = []
    for e in effects:
        if isinstance(e, Tell):
            out.append(f"tell {e.kind} {','.join(e.to)}")
        elif isinstance(e, UpdateSlack):
            out.append(f"slack {e.shown_to}")
        else:
            out.append(type(e).__name__.lower())
    return out


AGAIN = datetime(2026, 6, 1, 9, 47, tzinfo=UTC)
REPEAT_CASES = [
    # the task's state before, whether its Slack message is known, the effects
    ("assigned", True, ["publish", "tell repeat police-duty", "slack police-duty"]),
    ("acknowledged", False, ["publish", "tell repeat police-duty"]),
    ("pending", False, ["publish"]),  # not out yet: it goes out with the new place
    ("done", False, ["publish", "tell repeat coord"]),  # ended: the coordinators hear
    ("cancelled", False, ["publish", "tell repeat coord"]),
]


@pytest.mark.parametrize(("state", "slack", "effects"), REPEAT_CASES)
def test_a_repeat_reaches_whoever_has_the_task_in_hand(
    tasks: dict[str, Task], directory: Directory, state: str, slack: bool, effects: list[str]
) -> None:
    task = tasks["protect"].model_copy(update={"state": state})
    refs = {"police-duty": "C-POLICE/1.0"} if slack else {}
    record = TrackRecord(task=task, slack_refs=refs)
    event = TaskEvent(
        task_id=task.id, action="repeat", signal="s2", area="south", occurred_at=AGAIN
    )
    after, out = handle(record, event, directory, T0)
    assert spelled(out) == effects
    assert after is not None
    assert after.task is not None
    assert after.task.signals == [*task.signals, "s2"]
    assert after.task.area == "south"
    assert after.task.areas == [*task.areas, "south"]
    assert after.task.state == task.state
    assert after.history[-1].action == "repeat"
    told = [e for e in out if isinstance(e, Tell)]
    assert all(t.at == AGAIN for t in told)
    again, nothing = handle(after, event, directory, T0)  # replayed: once
    assert (again, nothing) == (after, [])
