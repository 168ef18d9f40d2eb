"""The flow's own effects (concord.worker.runtime): audit entries batched per record, and
the flushes that make writes durable."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from concord.streams.audit import AuditRecord
from concord.streams.patches import Writes
from concord.worker.runtime import Flow, Flusher


class Audit:
    """A typed topic stand-in: what was sent, in order; each send returns the broker's
    future, which `ack` settles (or `fail`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, AuditRecord]] = []
        self.futures: list[asyncio.Future[None]] = []

    async def send(self, key: str, value: AuditRecord) -> asyncio.Future[None]:
        self.sent.append((key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future


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


def test_a_view_of_personal_data_returns_only_once_the_broker_holds_its_entry() -> None:
    f, audit = flow()

    async def view() -> None:
        async with f.audit_batch():  # even inside a record being handled: alone, at once
            shown = asyncio.ensure_future(
                f.audit_view("p", "reports.read", "s1", via="web", signals="r1")
            )
            while not audit.sent:
                await asyncio.sleep(0)
            for _ in range(20):
                await asyncio.sleep(0)
            assert not shown.done()  # sent, not acked: nothing may be shown yet
            audit.futures[0].set_result(None)
            await shown

    asyncio.run(view())
    [(key, record)] = audit.sent
    assert key == "s1"
    assert [(e.action, e.details) for e in record.entries] == [("reports.read", {"signals": "r1"})]


def test_a_view_the_broker_refuses_to_audit_raises() -> None:
    f, audit = flow()

    async def view() -> None:
        shown = asyncio.ensure_future(f.audit_view("p", "persons.viewed", "t1"))
        while not audit.futures:
            await asyncio.sleep(0)
        audit.futures[0].set_exception(RuntimeError("no leader"))
        await shown

    with pytest.raises(RuntimeError, match="no leader"):
        asyncio.run(view())


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


def test_an_erasure_tombstones_the_keys_then_deletes_the_files(tmp_path: Any) -> None:
    """Retention and erasure in a worker: the key first (every copy unreadable at once),
    then the files themselves from the evidence store, and one audit entry."""
    from concord.core.erasure import Due
    from concord.privacy.blobs import FileBlobs

    done: list[str] = []

    class Keys:
        async def tombstone(self, key_id: str) -> None:
            done.append(f"tombstone {key_id}")

    class Store(FileBlobs):
        def delete(self, subject: str) -> int:
            done.append(f"delete {subject}")
            return super().delete(subject)

    topics = Topics()
    topics.keys = Keys()  # type: ignore[attr-defined]
    store = Store(tmp_path)
    store.put("report-abc", "blob-0001", b"v2.k.sealed")
    store.put("report-xyz", "blob-0001", b"v2.k.other")
    f = Flow(cast(Any, topics), cast(Any, None), cast(Any, None), cast(Any, None), blobs=store)
    asyncio.run(f.erase(Due("report-abc", ("k1", "k2"), "asked"), "ops", "cli"))
    assert done == ["tombstone k1", "tombstone k2", "delete report-abc"]
    assert store.get("report-abc", "blob-0001") is None
    assert store.get("report-xyz", "blob-0001") == b"v2.k.other"
    ((key, record),) = topics.audit.sent
    assert (key, record.entries[0].action) == ("report-abc", "signal.erased")


@pytest.mark.parametrize(
    ("counted", "durable", "mark", "flushes"),
    [
        # the producer's counts, what a flush made durable, the caller's mark: flushes
        (True, 3, 3, 0),  # a flush since the write made it durable: none more
        (True, 5, 3, 0),
        (True, 2, 3, 1),  # written after the last flush began: the next one
        (True, 3, None, 1),  # no mark: a flush that starts after the call
        (False, 0, None, 1),  # not counted: always a flush
    ],
)
def test_a_write_waits_for_a_flush_only_when_none_made_it_durable_yet(
    counted: bool, durable: int, mark: int | None, flushes: int
) -> None:
    writes = Writes(put=6, handed=6, durable=durable)
    made: list[int] = []

    async def flush() -> None:
        made.append(writes.put)
        writes.durable = writes.put

    flusher = Flusher(flush, writes if counted else None)
    asyncio.run(flusher.covered(mark))
    assert len(made) == flushes
    assert flusher.mark() == (6 if counted else None)
