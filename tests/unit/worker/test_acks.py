"""Waiting for the broker's ack within a deadline (concord.worker.acks): a broker that does
not answer, or refuses, is `Unavailable`, never a wait as long as the producer's own."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError

from concord.worker.acks import Unavailable, acked, at_most, paused, within


async def buffered(future: asyncio.Future[None]) -> asyncio.Future[None]:
    """A send: the record is buffered at once; `future` is the broker's ack."""
    return future


def test_acks_in_time_return() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(3)]
        for f in futures:
            loop.call_soon(f.set_result, None)
        await acked(1.0, *(buffered(f) for f in futures))

    asyncio.run(run())


def test_an_ack_that_does_not_come_is_unavailable_at_the_deadline_not_later() -> None:
    kept: list[asyncio.Future[None]] = []

    async def run() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        kept.append(never)
        await acked(0.2, buffered(never))

    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"did not confirm within 0\.2 s"):
        asyncio.run(run())
    assert time.monotonic() - started < 2
    # The producer's own future is left to the producer (it completes it when the
    # broker answers): only the wait ended.
    assert not kept[0].cancelled()


def test_a_send_that_blocks_is_unavailable_and_the_sends_not_started_are_closed() -> None:
    later: list[Any] = []

    async def stuck() -> asyncio.Future[None]:
        await asyncio.sleep(60)  # no metadata: the producer waits for the broker
        raise AssertionError("not reached")

    async def run() -> None:
        second = buffered(asyncio.get_running_loop().create_future())
        later.append(second)
        await acked(0.1, stuck(), second)

    with pytest.raises(Unavailable):
        asyncio.run(run())
    assert inspect.getcoroutinestate(later[0]) == inspect.CORO_CLOSED  # no "never awaited"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (KafkaConnectionError(), "the broker refused: KafkaConnectionError"),
        (NotLeaderForPartitionError(), "the broker refused: NotLeaderForPartitionError"),
    ],
)
def test_a_broker_that_refuses_is_unavailable(error: Exception, said: str) -> None:
    async def run() -> None:
        refused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        refused.set_exception(error)
        await acked(1.0, buffered(refused))

    with pytest.raises(Unavailable) as raised:
        asyncio.run(run())
    assert str(raised.value) == said


def test_other_failures_are_not_the_brokers() -> None:
    async def run(block: Awaitable[None]) -> None:
        async with within(1.0):
            await block

    async def bug() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(run(bug()))


def test_time_spent_storing_files_does_not_count_against_the_deadline() -> None:
    async def upload_then_send(store_seconds: float, stored_apart: bool) -> None:
        async with within(0.2):
            if stored_apart:
                with paused():  # the evidence store's time, not the broker's
                    await asyncio.sleep(store_seconds)
            else:
                await asyncio.sleep(store_seconds)
            await asyncio.sleep(0.05)  # the broker answers in time

    asyncio.run(upload_then_send(0.4, stored_apart=True))
    with pytest.raises(Unavailable):
        asyncio.run(upload_then_send(0.4, stored_apart=False))


def test_the_deadline_left_after_storing_is_what_was_left_before() -> None:
    async def run() -> None:
        async with within(0.3):
            await asyncio.sleep(0.2)
            with paused():
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.2)  # 0.4 of broker time in all: past the deadline

    with pytest.raises(Unavailable):
        asyncio.run(run())


def test_storing_outside_any_deadline_is_not_bounded() -> None:
    async def run() -> str:
        with paused():  # a stage's admission: no request waits
            await asyncio.sleep(0.01)
        return "stored"

    assert asyncio.run(run()) == "stored"


def test_a_caller_that_gives_up_sooner_gets_its_own_deadline() -> None:
    async def click() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with at_most(0.1):  # Slack waits 3 s; the setting may say 10
            await acked(10.0, buffered(never))

    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"within 0\.1 s"):
        asyncio.run(click())
    assert time.monotonic() - started < 2

    async def longer() -> None:  # never longer than the setting
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with at_most(30.0):
            await acked(0.1, buffered(never))

    with pytest.raises(Unavailable, match=r"within 0\.1 s"):
        asyncio.run(longer())


def test_a_time_limit_of_something_else_is_not_taken_for_the_brokers() -> None:
    async def store() -> None:
        async with within(5.0):
            with paused():
                raise TimeoutError("the evidence store did not answer")

    with pytest.raises(TimeoutError, match="evidence store"):
        asyncio.run(store())
