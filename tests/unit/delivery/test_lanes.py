"""concord.delivery.lanes: pace per lane, limits per carrier, order per key, isolation."""

from __future__ import annotations

import asyncio

from concord.delivery.lanes import Bucket, Job, Lanes, Pace


async def until(condition: object, timeout: float = 2.0) -> None:
    """Let the lanes run until `condition()` holds (fail after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not met"
        await asyncio.sleep(0.001)


def test_a_bucket_paces_after_its_burst() -> None:
    now = [0.0]
    bucket = Bucket(rate=1.0, burst=3, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == 1.0  # the fourth waits a second
    now[0] = 10.0
    assert bucket.reserve() == 0.0  # tokens came back
    bucket.pause_until(15.0)
    assert bucket.reserve() == 5.0  # Retry-After holds the lane
    assert Bucket(rate=0, burst=1).reserve() == 0.0  # no limit


async def test_a_stuck_lane_holds_back_no_other() -> None:
    lanes = Lanes({"email": Pace(per_lane=1, per_carrier=4), "slack": Pace(per_carrier=4)})
    release = asyncio.Event()
    done: list[str] = []

    def job(key: str, lane: tuple[str, str], wait: bool = False) -> Job:
        async def run() -> float | None:
            if wait:
                await release.wait()  # SMTP hanging
            done.append(key)
            return None

        return Job(key, lane, key, run)

    lanes.submit(job("mail-1", ("email", "a@x"), wait=True))
    lanes.submit(job("mail-2", ("email", "a@x")))  # same lane: behind the stuck one
    lanes.submit(job("slack-1", ("slack", "C1")))
    lanes.submit(job("mail-3", ("email", "b@x")))  # another address: its own lane
    await until(lambda: {"slack-1", "mail-3"} <= set(done))
    assert set(done) == {"slack-1", "mail-3"}
    assert lanes.depth("email") == 2
    release.set()
    await until(lambda: len(done) == 4)
    assert done[-2:] == ["mail-1", "mail-2"]
    assert lanes.depth("email") == 0


async def test_order_is_kept_per_key_across_a_retry() -> None:
    lanes = Lanes({"slack": Pace(per_lane=4, per_carrier=4)})
    done: list[str] = []

    def job(key: str, order: str) -> Job:
        async def run() -> float | None:
            done.append(key)
            return None

        return Job(key, ("slack", "C1"), order, run)

    first = job("task-1.msg", "task-1")
    lanes.submit(first)
    await until(lambda: done == ["task-1.msg"])
    # The first attempt failed and waits for its retry: the update of the same task waits.
    lanes.submit(job("task-1.update", "task-1"))
    lanes.submit(job("task-2.msg", "task-2"))  # another task goes at once
    await until(lambda: len(done) == 2)
    assert done == ["task-1.msg", "task-2.msg"]
    lanes.submit(first)  # the retry: still the head of its order
    await until(lambda: len(done) == 3)
    lanes.release("task-1.msg", "task-1", ("slack", "C1"))  # delivered now
    await until(lambda: len(done) == 4)
    assert done == ["task-1.msg", "task-2.msg", "task-1.msg", "task-1.update"]


async def test_a_carrier_has_at_most_its_limit_in_flight() -> None:
    lanes = Lanes({"email": Pace(per_lane=1, per_carrier=2)})
    running = [0]
    peak = [0]
    finished: list[int] = []

    def job(i: int) -> Job:
        async def run() -> float | None:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            await asyncio.sleep(0.01)
            running[0] -= 1
            finished.append(i)
            return None

        return Job(f"m{i}", ("email", f"a{i}@x"), f"m{i}", run)

    for i in range(6):
        lanes.submit(job(i))
    await until(lambda: len(finished) == 6)
    assert peak[0] == 2


async def test_a_rate_limit_pauses_only_its_lane() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 2))
        now[0] += seconds
        await asyncio.sleep(0)

    lanes = Lanes({"slack": Pace(per_lane=1, per_carrier=4)}, clock=lambda: now[0], sleep=sleep)
    answers = {"a": 5.0}

    def job(key: str, channel: str) -> Job:
        async def run() -> float | None:
            return answers.pop(key, None)  # the first call says: Retry-After 5 s

        return Job(key, ("slack", channel), key, run)

    lanes.submit(job("a", "C1"))
    await until(lambda: "a" not in answers)  # the first call answered Retry-After
    lanes.submit(job("b", "C1"))  # same channel: waits out the 5 s
    lanes.submit(job("c", "C2"))  # another channel: no wait
    await until(lambda: slept)
    assert slept == [5.0]


async def test_closed_lanes_start_no_job() -> None:
    # A stopping worker closes its lanes; a job started after would write to a table
    # whose producer has stopped.
    lanes = Lanes({"slack": Pace(per_lane=1, per_carrier=4)})
    started: list[str] = []
    hang = asyncio.Event()

    def job(key: str) -> Job:
        async def run() -> float | None:
            started.append(key)
            await hang.wait()  # a carrier call in flight when the worker stops
            return None

        return Job(key, ("slack", "C1"), key, run)

    lanes.submit(job("first"))
    lanes.submit(job("queued"))  # behind it in the lane
    await until(lambda: started == ["first"])
    await lanes.close()
    lanes.submit(job("late"))  # the schedule's last tick
    for _ in range(20):
        await asyncio.sleep(0)
    assert started == ["first"]
    assert lanes.depth("slack") == 2  # handed back, not run
