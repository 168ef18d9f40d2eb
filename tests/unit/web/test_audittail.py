"""The audit entries a worker keeps (concord.web.audittail): compact, found by subject,
filtered before they are decoded, the oldest dropped first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from concord.streams.audit import AuditEntry
from concord.web.audittail import AuditTail

T0 = datetime(2026, 12, 6, 9, tzinfo=UTC)


def entry(i: int, subject: str, action: str = "task.acknowledged", **details: str) -> AuditEntry:
    actor = "police-duty" if i % 2 else "concord"
    at = T0 + timedelta(minutes=i)
    return AuditEntry(at=at, actor=actor, action=action, subject=subject, details=details)


def tail(kept: int, entries: list[AuditEntry]) -> AuditTail:
    t = AuditTail(kept)
    for e in entries:
        t.append(e)
    return t


def test_the_oldest_entries_go_first_and_the_subject_index_follows() -> None:
    t = tail(3, [entry(0, "a"), entry(1, "b"), entry(2, "a"), entry(3, "c"), entry(4, "a")])
    assert len(t) == 3
    assert [e.at for e in t] == [T0 + timedelta(minutes=m) for m in (2, 3, 4)]
    assert [e.at.minute for e in t.about(["a"])] == [2, 4]
    assert t.about(["b"]) == []  # dropped with its entry
    assert [e.subject for e in t.about(["c", "a", "a"])] == ["a", "c", "a"]  # by time


def test_the_audit_log_filters_and_pages_newest_first() -> None:
    entries = [
        entry(i, f"task-{i % 3}", "task.done" if i % 4 == 0 else "view.board") for i in range(20)
    ]
    t = tail(100, entries)
    total, page = t.newest(0, 5)
    assert total == 20
    assert [e.at.minute for e in page] == [19, 18, 17, 16, 15]
    total, page = t.newest(5, 5)
    assert [e.at.minute for e in page] == [14, 13, 12, 11, 10]
    total, page = t.newest(0, 50, action="task.")
    assert (total, [e.at.minute for e in page]) == (5, [16, 12, 8, 4, 0])
    total, page = t.newest(0, 50, actor="police-duty", subject="task-1")
    assert [e.at.minute for e in page] == [19, 13, 7, 1]
    assert all(e.actor == "police-duty" and "task-1" in e.subject for e in page)
    assert t.newest(0, 50, actor="police")[0] == 0  # the actor is matched whole
    assert t.newest(0, 50, subject='"')[0] == 0


def test_filters_match_text_that_json_escapes() -> None:
    t = tail(10, [entry(1, 'sit "quoted" é'), entry(2, "plain")])
    total, page = t.newest(0, 10, subject='"quoted" é')
    assert total == 1
    assert page[0].subject == 'sit "quoted" é'


def test_the_indicators_get_only_the_transitions_they_time() -> None:
    t = tail(
        10,
        [
            entry(0, "t1", "task.assigned", after="assigned"),
            entry(1, "t1", "task.acknowledged", after="acknowledged", note="done"),
            entry(2, "t1", "task.noted", note="assigned"),  # the word, not the detail
            entry(3, "t2", "task.done", after="done"),
        ],
    )
    found = list(t.with_detail("after", ("assigned", "done", "acknowledged")))
    assert [(e.subject, e.details["after"]) for e in found] == [
        ("t1", "assigned"),
        ("t1", "acknowledged"),
        ("t2", "done"),
    ]
