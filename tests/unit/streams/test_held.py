"""Held writes (concord.streams.held): a batch's table writes are made only once every
record it sent is durable, its markers last; the stage sees them at once, nothing else
does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.streams import current_event

from concord.streams import held
from concord.streams.patches import handling
from concord.streams.tables import Shape, Table
from tests.unit.streams.fakes import Event, Message
from tests.unit.streams.test_tables import App


def tables(holds: bool = True) -> tuple[App, Table[str], App, Table[str]]:
    """A work table and a marker table, each with its own store."""
    work_app, marker_app = App(), App()
    work = Table(work_app, "area-state", str, Shape(4), holds=holds)
    marker = Table(marker_app, "signals-seen", str, Shape(4), marker=True)
    return work_app, work, marker_app, marker


def test_a_batch_sees_its_writes_at_once_and_nothing_is_written_before_release() -> None:
    work_app, work, _, _ = tables()
    work["a"] = "before"
    with held.holding():
        work["a"] = "after"
        work["b"] = "new"
        work.pop("a")
        work["a"] = "again"
        assert work.get("a") == "again"
        assert "b" in work
        assert work.get("b") == "new"
    assert dict(work_app.store) == {"a": b'"before"'}  # nothing went to the store
    assert work.get("b") is None  # outside the batch: what is written


@pytest.mark.parametrize(
    ("holds", "written_inside"),
    [
        (True, {}),  # a stage's table: held
        (False, {"k": b'"v"'}),  # the delivery stage's: written at once
    ],
)
def test_only_tables_that_hold_are_held(holds: bool, written_inside: dict[str, bytes]) -> None:
    app, table, _, _ = tables(holds)
    with held.holding():
        table["k"] = "v"
        assert dict(app.store) == written_inside


def test_release_waits_for_every_record_the_batch_sent_then_writes_the_markers_last() -> None:
    work_app, work, marker_app, marker = tables()
    order: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sent: asyncio.Future[None] = loop.create_future()
        with held.holding() as writes:
            work["situation"] = "with the signal"
            held.sent(sent)  # a record sent after the write: Kafka may store it later
            marker["signal"] = "seen"

        async def settled() -> None:
            order.append(f"settled with work {dict(work_app.store)}")

        release = loop.create_task(writes.release(settled))
        for _ in range(20):  # however long the broker takes: nothing is written
            await asyncio.sleep(0)
        assert not release.done()
        assert not work_app.store
        assert not marker_app.store
        sent.set_result(None)
        assert await release == 2
        order.append(f"marker {dict(marker_app.store)}")

    asyncio.run(main())
    assert order == [
        "settled with work {'situation': b'\"with the signal\"'}",
        "marker {'signal': b'\"seen\"'}",
    ]


def test_a_record_that_could_not_be_sent_leaves_the_tables_unwritten() -> None:
    """The batch is then never acked: read again, against tables that do not say it
    was done."""
    work_app, work, marker_app, marker = tables()

    async def main() -> None:
        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        failed.set_exception(RuntimeError("broker gone"))
        with held.holding() as writes:
            work["a"] = "x"
            marker["a"] = "seen"
            held.sent(failed)

        async def settled() -> None:
            pass

        with pytest.raises(RuntimeError, match="broker gone"):
            await writes.release(settled)

    asyncio.run(main())
    assert not work_app.store
    assert not marker_app.store


def test_a_batch_that_wrote_nothing_waits_for_nothing() -> None:
    async def main() -> int:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with held.holding() as writes:
            held.sent(never)
        return await asyncio.wait_for(writes.release(_unexpected), 1)

    assert asyncio.run(main()) == 0


async def _unexpected() -> None:
    raise AssertionError("no write: nothing to settle")


def test_outside_a_batch_and_after_it_writes_go_at_once() -> None:
    app, table, _, _ = tables()
    table["a"] = "x"
    assert app.store["a"] == b'"x"'

    async def main() -> None:
        with held.holding():
            pass
        # A task the batch started lives on: its writes are not held by a closed batch.
        held.sent(asyncio.get_running_loop().create_future())
        table["b"] = "y"

    asyncio.run(main())
    assert app.store["b"] == b'"y"'


def test_writes_are_made_as_the_record_that_made_them() -> None:
    """A Faust table picks the changelog partition from the current event."""
    seen: list[Any] = []

    class Recording:
        marker = False

        def write_now(self, key: str, value: bytes | None) -> None:
            event = current_event()
            seen.append((key, event.message.partition if event is not None else None))

    async def main() -> None:
        table = Recording()
        with held.holding() as writes:
            for partition in (2, 0):
                event = Event(Message(b"", 0, partition=partition))
                with handling(event):
                    writes.write(table, f"k{partition}", b"v")

        async def settled() -> None:
            pass

        await writes.release(settled)

    asyncio.run(main())
    assert seen == [("k2", 2), ("k0", 0)]
