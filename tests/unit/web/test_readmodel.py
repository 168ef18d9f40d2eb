"""The read model's latest values (concord.web.readmodel.Latest): kept as bytes, decoded
when read, and only the latest reads stay decoded; tasks come from the track stage's
table changelog."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from concord.streams.access import SessionMark
from concord.streams.tasks import Task, TaskState, TrackRecord
from concord.web.readmodel import Latest, ReadModel, Tasks, table_key
from tests.unit.factories import make_task


def mark(i: int) -> bytes:
    return SessionMark(id=f"s{i}", kind="revoked", person="p").model_dump_json().encode()


def test_values_are_decoded_when_read_and_a_new_record_replaces_the_decoded_one() -> None:
    latest: Latest[SessionMark] = Latest(SessionMark)
    latest.put("a", mark(1))
    assert latest["a"].id == "s1"
    latest.put("a", mark(2))
    assert latest["a"].id == "s2"
    latest.put("a", None)
    with pytest.raises(KeyError):
        latest["a"]


def test_only_the_latest_reads_stay_decoded_and_a_scan_keeps_nothing_more() -> None:
    latest: Latest[SessionMark] = Latest(SessionMark)
    latest.CACHED = 10
    for i in range(100):
        latest.put(f"k{i}", mark(i))
    for i in range(20):
        assert latest[f"k{i}"].id == f"s{i}"
    assert sorted(latest._decoded) == sorted(f"k{i}" for i in range(10, 20))
    kept = dict(latest._decoded)
    assert [m.id for m in latest.values()] == [f"s{i}" for i in range(100)]
    assert latest._decoded == kept  # the scan used them and added none
    assert latest["k3"].id == "s3"  # read again: decoded again


def test_values_are_kept_compressed_and_read_back_as_the_topic_carried_them() -> None:
    tasks = Tasks()
    value = track_record(make_task(id="t1"))
    tasks.put("t1", value)
    assert tasks.raw("t1") == value
    assert len(tasks._raw["t1"]) < len(value) * 0.75  # what a worker keeps per task
    assert tasks["t1"].id == "t1"


@pytest.mark.parametrize("size", [0, 1, 300, 4096, 4097, 200_000])
def test_values_of_any_size_come_back_whole_past_the_compression_window(size: int) -> None:
    latest: Latest[SessionMark] = Latest(SessionMark)
    value = bytes((i * 7919 + i // 13) % 251 for i in range(size))  # little to repeat
    latest.put("k", value)
    assert latest.raw("k") == value
    text = b'{"id":"s1","kind":"revoked","person":"p"}' * (size // 40 + 1)
    latest.put("k", text)
    assert latest.raw("k") == text
    assert len(latest._raw["k"]) <= max(60, len(text) // 4)  # repeats far apart still shrink


def track_record(task: Task | None, **kw: Any) -> bytes:
    """A `tasks` table value as the track stage writes it (compact JSON)."""
    return TypeAdapter(TrackRecord).dump_json(TrackRecord(task=task, **kw))


def test_tasks_are_read_from_the_track_table_s_changelog() -> None:
    model = ReadModel("city")
    heard = model.listen()
    task = make_task(id="t1", state=TaskState.assigned)
    model.apply("city-tasks-changelog", '"t1"', track_record(task, notes=["n"]))
    assert model.tasks["t1"] == task
    assert heard.get_nowait() == ("task", "t1")  # the board hears of it
    moved = task.model_copy(update={"state": TaskState.done})
    model.apply("city-tasks-changelog", '"t1"', track_record(moved))
    assert model.tasks["t1"].state == TaskState.done
    model.apply("city-tasks-changelog", '"t1"', None)  # a tombstone
    assert "t1" not in model.tasks
    model.apply("concord.task-state", "t2", task.model_dump_json().encode())
    assert "t2" not in model.tasks  # the snapshot topic is the publish stage's, not read


def test_a_changelog_key_is_the_table_s_key_faust_writes_them_as_json() -> None:
    assert table_key('"t-1"') == "t-1"
    assert table_key("t-1") == "t-1"  # not JSON: as it is
    assert table_key("12") == "12"


def test_a_stub_record_is_no_task_yet() -> None:
    """News of a task that comes before its creation is kept in a stub by the track."""
    model = ReadModel()
    stub = track_record(None, prerequisites={"t0": "done"})
    assert stub.startswith(Tasks.STUB)
    model.apply("concord-tasks-changelog", '"t1"', stub)
    assert len(model.tasks) == 0
    assert model.tasks.get("t1") is None
    assert model.tasks.values() == []
