"""Lanes: many messages in flight at once, trouble in one lane holding back no other.

A lane is a channel and an address: `("email", "duty@police...")`, `("slack", "C-POLICE")`.
Each lane runs its jobs in order, at most `per_lane` at a time, at its own pace (a
token bucket: Slack allows about one message per second per Slack channel, with small
bursts), and pauses on its own when the carrier says so (`Retry-After`). Across lanes,
a carrier has at most `per_carrier` jobs in flight and may have a rate of its own (a
Slack workspace). So SMTP refusing connections holds back no Slack message, and a 429
on one Slack channel holds back no other Slack channel.

Order: jobs with the same order key in one lane leave in the order they were submitted,
also across retries: a job that failed and waits for its next attempt stays at the head
of its order until `release` (delivered, failed, withdrawn or moved to another lane).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from concord.config.settings import Settings
from concord.streams.delivery import Outgoing

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Lane = tuple[str, str]


class Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved up; 0 = no limit."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._paused_until = 0.0

    def pause_until(self, at: float) -> None:
        """No token before `at` (the carrier's Retry-After)."""
        self._paused_until = max(self._paused_until, at)

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        now = self._clock()
        wait = max(0.0, self._paused_until - now)
        if self.rate <= 0:
            return wait
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1.0
        if self._tokens < 0:
            wait = max(wait, -self._tokens / self.rate)
        return wait


@dataclass(frozen=True)
class Pace:
    """A carrier's limits: per lane (rate a second, burst) and for the whole carrier."""

    lane_rate: float = 0.0
    lane_burst: float = 1.0
    carrier_rate: float = 0.0
    carrier_burst: float = 1.0
    per_lane: int = 1
    per_carrier: int = 8


#: What a job returns: seconds the lane must pause (the carrier's Retry-After), or None.
Run = Callable[[], Awaitable[float | None]]


@dataclass
class Job:
    """One attempt waiting in a lane: the message key and the channel to try."""

    key: str
    lane: Lane
    order: str
    run: Run
    submitted: float = field(default_factory=time.monotonic)


@dataclass
class _LaneState:
    queue: deque[Job] = field(default_factory=deque)
    running: int = 0
    bucket: Bucket | None = None
    worker: asyncio.Task[None] | None = None


class Lanes:
    """The lanes of one worker (see the module)."""

    def __init__(
        self,
        paces: dict[str, Pace],
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.paces = paces
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[Lane, _LaneState] = {}
        self._carriers: dict[str, asyncio.Semaphore] = {}
        self._carrier_buckets: dict[str, Bucket] = {}
        self._orders: dict[tuple[str, Lane], deque[str]] = {}
        self._parked: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _pace(self, carrier: str) -> Pace:
        return self.paces.get(carrier, Pace())

    def _lane(self, lane: Lane) -> _LaneState:
        state = self._lanes.get(lane)
        if state is None:
            pace = self._pace(lane[0])
            bucket = Bucket(pace.lane_rate, pace.lane_burst, self._clock)
            state = self._lanes[lane] = _LaneState(bucket=bucket)
        return state

    def submit(self, job: Job) -> None:
        """Queue a job (returns at once); it waits behind earlier jobs of its order."""
        book = self._orders.setdefault((job.order, job.lane), deque())
        if job.key not in book:
            book.append(job.key)
        if book[0] != job.key:
            self._parked[job.key] = job  # runs when the ones before it are released
            return
        self._parked.pop(job.key, None)
        state = self._lane(job.lane)
        state.queue.append(job)
        self._wake(job.lane, state)

    def release(self, key: str, order: str, lane: Lane) -> None:
        """The job is over in this lane (final, or moved on): the next of its order may go."""
        book = self._orders.get((order, lane))
        if not book:
            return
        if key in book:
            book.remove(key)
        if not book:
            del self._orders[(order, lane)]
            return
        following = self._parked.pop(book[0], None)
        if following is not None:
            self.submit(following)

    def depth(self, carrier: str) -> int:
        """Jobs waiting or running for this carrier (parked ones included)."""
        queued = sum(len(s.queue) + s.running for (c, _), s in self._lanes.items() if c == carrier)
        return queued + sum(1 for job in self._parked.values() if job.lane[0] == carrier)

    def _wake(self, lane: Lane, state: _LaneState) -> None:
        if self._closed:
            # A stopping worker: a job started now would write to a table whose
            # producer has stopped. What waits is pending in the table: taken up after.
            return
        if state.worker is None or state.worker.done():
            state.worker = asyncio.ensure_future(self._drain(lane, state))

    async def _drain(self, lane: Lane, state: _LaneState) -> None:
        """Start the lane's next jobs, up to its concurrency, at its pace; a job that ends
        wakes the lane again."""
        pace = self._pace(lane[0])
        while state.queue and state.running < max(1, pace.per_lane):
            job = state.queue.popleft()
            assert state.bucket is not None
            carrier_bucket = self._carrier_buckets.setdefault(
                lane[0], Bucket(pace.carrier_rate, pace.carrier_burst, self._clock)
            )
            wait = max(state.bucket.reserve(), carrier_bucket.reserve())
            if wait > 0:
                await self._sleep(wait)
            state.running += 1
            task = asyncio.ensure_future(self._run(lane, state, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, lane: Lane, state: _LaneState, job: Job) -> None:
        semaphore = self._carriers.setdefault(
            lane[0], asyncio.Semaphore(max(1, self._pace(lane[0]).per_carrier))
        )
        try:
            async with semaphore:
                pause = await job.run()
            if pause and state.bucket is not None:
                state.bucket.pause_until(self._clock() + pause)
        except Exception:  # a job records its own outcome; this is a bug: keep the lane alive
            log.exception("delivery job %s failed", job.key)
        finally:
            state.running -= 1
            if state.queue:
                self._wake(lane, state)

    async def close(self) -> None:
        """Cancel every running job (a stopping worker hands them back: they are pending
        in the table and in doubt after the restart); from then on no job starts, not
        even one queued behind a cancelled one."""
        self._closed = True
        for state in self._lanes.values():
            if state.worker is not None:
                state.worker.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def lane_of(outgoing: Outgoing, channel: str) -> Lane:
    """The lane a message takes on a channel: the carrier and the address."""
    r = outgoing.message.recipient
    if channel == "slack":
        return ("slack", r.slack_channel or r.slack_user or r.id)
    if channel == "email":
        return ("email", r.email or r.id)
    # One lane per webhook URL or room: an agency's shared channel is one lane.
    address = {
        "teams": r.teams_webhook,
        "matrix": r.matrix_room,
        "mattermost": r.mattermost_webhook,
        "rocketchat": r.rocketchat_webhook,
    }.get(channel)
    return (channel, str(address) if address else r.id)


def paces(s: Settings) -> dict[str, Pace]:
    """How fast each channel's lanes may go (Slack: per Slack channel and per workspace)."""
    interval = s.slack_channel_interval_seconds
    slack = Pace(
        lane_rate=1.0 / interval if interval > 0 else 0.0,
        lane_burst=s.slack_channel_burst,
        carrier_rate=s.slack_workspace_rate,
        carrier_burst=max(1.0, s.slack_workspace_rate),
        # Paced lanes send one at a time; unpaced (tests, benchmarks) as fast as allowed.
        per_lane=1 if interval > 0 else s.delivery_concurrency,
        per_carrier=s.delivery_concurrency,
    )
    concurrency = s.delivery_concurrency
    return {
        "slack": slack,
        "email": Pace(per_lane=1, per_carrier=concurrency),
        # A subscriber takes events in parallel: the events of one situation or task
        # still leave in order (their order key), and each subscriber is its own lane.
        "webhook": Pace(per_lane=concurrency, per_carrier=concurrency),
    }
