"""Every agent's loop (concord.agents.stage): records come in batches, each handled as
Faust's current event; a record whose handling fails, or whose batch's audit record
cannot be sent, is a dead letter; the loop goes on. A dead letter that cannot be
written stops the loop with the batch not acked."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest
from faust.streams import current_event as faust_current_event

from concord.agents import stage as stage_module
from concord.agents.stage import consume_raw
from concord.streams import held
from concord.streams.audit import AuditRecord
from concord.streams.tables import Shape, Table
from concord.worker.metrics import Metrics
from concord.worker.runtime import Flow, Where
from tests.unit.streams.fakes import Stream
from tests.unit.streams.test_tables import App


def run(f: Flow, stage: Any, stream: Stream, handle: Any) -> None:
    """The stage's loop until every record is acked (Faust cancels it when it stops)."""

    async def main() -> None:
        loop = asyncio.get_running_loop().create_task(consume_raw(f, stage, stream, handle))
        await asyncio.wait_for(stream.drained.wait(), 5)
        loop.cancel()

    asyncio.run(main())


class Audit:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.sent: list[AuditRecord] = []

    async def send(self, key: str, value: AuditRecord) -> None:
        if self.refuse:
            raise RuntimeError("producer closed")
        self.sent.append(value)


class Topics:
    def __init__(self, refuse: bool) -> None:
        self.audit = Audit(refuse)


class Recording(Flow):
    """A flow whose dead letters are recorded, not sent."""

    dead: list[tuple[str, int | None, str]]

    async def deadletter(
        self, stage: Any, at: Where, raw: bytes, reason: str, errors: Any, **kw: Any
    ) -> Any:
        self.dead.append((raw.decode(), at.offset, reason))


def flow(refuse_audit: bool) -> Recording:
    made = Recording(cast(Any, Topics(refuse_audit)), cast(Any, None), Metrics(), cast(Any, None))
    made.dead = []
    return made


def handle_for(f: Flow, handled: list[str]) -> Any:
    async def handle(raw: bytes, message: Any) -> None:
        await f.audit("concord", "record.handled", raw.decode())
        if raw == b"bad":
            raise ValueError("cannot")
        handled.append(raw.decode())

    return handle


def test_a_failing_record_is_a_dead_letter_its_entries_are_kept_and_the_loop_goes_on() -> None:
    f = flow(refuse_audit=False)
    handled: list[str] = []
    stream = Stream([b"a", b"bad", b"c"], [b"d"])
    run(f, "correlate", stream, handle_for(f, handled))
    assert handled == ["a", "c", "d"]
    assert f.dead == [("bad", 1, "correlate failed: ValueError")]
    audit = cast(Topics, f.topics).audit
    # One audit record per batch, the failed record's entries included.
    assert [[e.subject for e in r.entries] for r in audit.sent] == [["a", "bad", "c"], ["d"]]
    assert f.metrics.stage_records.labels("correlate")._value.get() == 3
    assert stream.acked == [0, 1, 2, 3]  # every record, once handled


def test_a_batch_whose_audit_record_cannot_be_sent_is_made_of_dead_letters() -> None:
    f = flow(refuse_audit=True)
    handled: list[str] = []
    stream = Stream([b"a", b"bad", b"b"])
    run(f, "plan", stream, handle_for(f, handled))
    assert handled == ["a", "b"]  # handled, but their audit record could not be written
    assert f.dead == [
        ("bad", 1, "plan failed: ValueError"),
        ("a", 0, "plan failed: RuntimeError"),
        ("b", 2, "plan failed: RuntimeError"),
    ]


def test_each_record_of_a_batch_is_handled_as_faust_s_current_event() -> None:
    """A table write picks its changelog partition from the current event."""
    f = flow(refuse_audit=False)
    seen: list[tuple[int, int | None]] = []

    async def handle(raw: bytes, message: Any) -> None:
        now = faust_current_event()
        seen.append((message.offset, now.message.offset if now is not None else None))

    run(f, "track", Stream([b"a", b"b", b"c"]), handle)
    assert seen == [(0, 0), (1, 1), (2, 2)]
    assert faust_current_event() is None


def test_a_dead_letter_that_cannot_be_written_leaves_the_batch_unacked() -> None:
    """Read again after the restart, rather than acked and lost."""
    f = flow(refuse_audit=False)

    async def no_deadletter(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("broker gone")

    f.deadletter = no_deadletter  # type: ignore[method-assign]
    stream = Stream([b"a", b"bad", b"c"])

    async def main() -> None:
        await consume_raw(f, "plan", stream, handle_for(f, []))

    with pytest.raises(RuntimeError, match="broker gone"):
        asyncio.run(main())
    assert stream.acked == []


def test_once_the_worker_stops_no_record_is_handled_and_nothing_is_acked() -> None:
    """What was fetched before the stop is read again after the restart: handled now,
    its offset could be committed while its table writes die with the producer."""
    f = flow(refuse_audit=False)
    handled: list[str] = []
    stopping = False

    async def handle(raw: bytes, message: Any) -> None:
        nonlocal stopping
        handled.append(raw.decode())
        stopping = True  # the worker is told to stop while the first record is handled

    f.stopping = lambda: stopping
    stream = Stream([b"a", b"b", b"c"])

    async def main() -> None:
        loop = asyncio.ensure_future(consume_raw(f, "track", stream, handle))
        while not stopping:
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not loop.done()  # waiting for Faust to cancel it
        loop.cancel()

    asyncio.run(main())
    assert handled == ["a"]
    assert stream.acked == []


def handled_beside(slow: bool) -> str:
    """The records of one batch (a, b, c) and the turns of another task ("-"), in the
    order they ran; each record holds the event loop past `HOLD_SECONDS` when `slow`."""
    hold = stage_module.HOLD_SECONDS
    f = flow(refuse_audit=False)
    order: list[str] = []

    async def handle(raw: bytes, message: Any) -> None:
        until = time.perf_counter() + (hold * 1.5 if slow else 0)
        while time.perf_counter() < until:
            pass  # work that does not await
        order.append(raw.decode())

    async def main() -> None:
        stream = Stream([b"a", b"b", b"c"])

        async def beside() -> None:
            while not stream.drained.is_set():
                order.append("-")
                await asyncio.sleep(0)

        loop = asyncio.ensure_future(consume_raw(f, "correlate", stream, handle))
        other = asyncio.ensure_future(beside())
        await asyncio.wait_for(stream.drained.wait(), 5)
        loop.cancel()
        await other

    asyncio.run(main())
    return "".join(order).strip("-")


def test_a_batch_that_holds_the_event_loop_lets_other_tasks_turn_between_records() -> None:
    """A batch handled without a pause held the web server's answers under load."""
    handled = handled_beside(slow=True)
    assert handled.replace("-", "") == "abc"
    assert "ab" not in handled, handled
    assert "bc" not in handled, handled


def test_a_quick_batch_is_handled_in_one_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pause per record would cost an event-loop turn each. (The hold is made long
    here: a busy machine may pause the test itself for a millisecond.)"""
    monkeypatch.setattr(stage_module, "HOLD_SECONDS", 0.5)
    assert "abc" in handled_beside(slow=False)


def test_a_record_turned_down_is_a_dead_letter_logged_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    f = flow(refuse_audit=False)

    async def handle(raw: bytes, message: Any) -> None:
        if raw == b"big":
            raise stage_module.Unfit("the state of south|real would weigh 600.4 KB")
        if raw == b"bug":
            raise KeyError("x")

    stream = Stream([b"big", b"bug", b"ok"])
    with caplog.at_level("ERROR", logger="concord.agents.stage"):
        run(f, "correlate", stream, handle)
    assert [(raw, reason) for raw, _, reason in f.dead] == [
        ("big", "correlate failed: Unfit"),
        ("bug", "correlate failed: KeyError"),
    ]
    turned, failed = caplog.records
    assert "turned down: the state of south|real would weigh 600.4 KB" in turned.getMessage()
    assert turned.exc_info is None  # a traceback would say nothing more
    assert failed.exc_info is not None  # a bug's traceback is kept


def test_a_batch_is_acked_and_its_tables_written_only_once_what_it_sent_is_durable() -> None:
    """Else a crash could leave a table saying a record was handled while what it sent
    never reached Kafka: the record, read again, would be skipped."""
    f = flow(refuse_audit=False)
    app = App()
    table = Table(app, "tasks", str, Shape(4))
    stream = Stream([b"a", b"b"])

    async def main() -> None:
        loop = asyncio.get_running_loop()
        durable: asyncio.Future[None] = loop.create_future()

        both = asyncio.Event()

        async def handle(raw: bytes, message: Any) -> None:
            held.sent(durable)  # a record sent, not yet acked by the broker
            table[raw.decode()] = "handled"
            if raw == b"b":
                both.set()

        running = loop.create_task(consume_raw(f, "track", stream, handle))
        await asyncio.wait_for(both.wait(), 5)  # the batch is handled
        await turns()  # ... and the loop waits on the broker's ack, however long
        assert not app.store
        assert stream.acked == []
        assert table.get("a") is None  # what a timer or another stage would see
        durable.set_result(None)
        await asyncio.wait_for(stream.drained.wait(), 5)
        running.cancel()

    asyncio.run(main())
    assert dict(app.store) == {"a": b'"handled"', "b": b'"handled"'}
    assert stream.acked == [0, 1]


def test_the_agents_of_one_stage_take_turns_a_batch_at_a_time() -> None:
    """Two agents of one stage (correlate: signals and commands) read and write the same
    tables: each batch sees the one before it whole."""
    f = flow(refuse_audit=False)
    app = App()
    table = Table(app, "area-state", int, Shape(4))
    steps: list[str] = []

    def handle_as(name: str) -> Any:
        async def handle(raw: bytes, message: Any) -> None:
            steps.append(f"{name} reads {table.get('area')}")
            await turns()  # a send: the other agent could run here
            table["area"] = (table.get("area") or 0) + 1

        return handle

    async def main() -> None:
        first, second = Stream([b"1", b"2"]), Stream([b"3"])
        loop = asyncio.get_running_loop()
        agents = [
            loop.create_task(consume_raw(f, "correlate", first, handle_as("signals"))),
            loop.create_task(consume_raw(f, "correlate", second, handle_as("commands"))),
        ]
        await asyncio.wait_for(asyncio.gather(first.drained.wait(), second.drained.wait()), 5)
        for agent in agents:
            agent.cancel()

    asyncio.run(main())
    assert app.store["area"] == b"3"
    assert steps in (
        ["signals reads None", "signals reads 1", "commands reads 2"],
        ["commands reads None", "signals reads 1", "signals reads 2"],
    )


async def turns(n: int = 20) -> None:
    """Let every other task of the loop run `n` times (no clock involved)."""
    for _ in range(n):
        await asyncio.sleep(0)
