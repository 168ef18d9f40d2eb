"""The flow's own effects (concord.worker.runtime): audit entries batched per record."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from concord.streams.audit import AuditRecord
from concord.worker.runtime import Flow


class Audit:
    """A typed topic stand-in: what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, AuditRecord]] = []

    async def send(self, key: str, value: AuditRecord) -> None:
        self.sent.append((key, value))


class Topics:
    def __init__(self) -> None:
        self.audit = Audit()


def flow() -> tuple[Flow, Audit]:
    topics = Topics()
    made = Flow(cast(Any, topics), cast(Any, None), cast(Any, None), cast(Any, None))
    return made, topics.audit


def test_outside_a_batch_each_entry_is_its_own_record() -> None:
    f, audit = flow()
    asyncio.run(f.audit("p", "task.ack", "t1"))
    assert [(k, [e.action for e in r.entries]) for k, r in audit.sent] == [("t1", ["task.ack"])]


def test_a_records_entries_go_in_one_record_when_it_is_handled() -> None:
    f, audit = flow()

    async def handle() -> None:
        async with f.audit_batch():
            await f.audit("concord", "task.created", "t1")
            await f.audit("concord", "task.assigned", "t1", assignee="police")
            assert audit.sent == []  # not before the record is handled
        async with f.audit_batch():
            pass  # nothing audited: no record

    asyncio.run(handle())
    assert len(audit.sent) == 1
    key, record = audit.sent[0]
    assert key == "t1"
    assert [e.action for e in record.entries] == ["task.created", "task.assigned"]
    assert record.entries[1].details == {"assignee": "police"}


def test_a_task_started_inside_a_batch_that_audits_after_it_is_sent_is_not_lost() -> None:
    f, audit = flow()

    async def handle() -> None:
        later = asyncio.Event()

        async def lane() -> None:
            await later.wait()
            await f.audit("concord", "task.delivered", "t1")

        async with f.audit_batch():
            job = asyncio.ensure_future(lane())  # inherits the batch's context
            await f.audit("concord", "task.created", "t1")
        later.set()
        await job

    asyncio.run(handle())
    actions = [[e.action for e in r.entries] for _, r in audit.sent]
    assert actions == [["task.created"], ["task.delivered"]]


def test_entries_made_before_a_handler_failed_are_still_sent() -> None:
    f, audit = flow()

    async def handle() -> None:
        async with f.audit_batch():
            await f.audit("concord", "task.created", "t1")
            raise RuntimeError("the stage failed")

    with pytest.raises(RuntimeError, match="the stage failed"):
        asyncio.run(handle())
    assert [e.action for _, r in audit.sent for e in r.entries] == ["task.created"]
