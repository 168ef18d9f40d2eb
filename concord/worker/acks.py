"""Waiting for the broker's ack on a request's way, for a bounded time.

A web request (a signal, a report, a view of personal data that must be audited first) or
an inbound mail answers only once the broker holds what it sent. A broker that does not
answer would otherwise hold the request for as long as the producer's own timeout (Faust's
is twenty minutes), and the client would learn nothing. Within `CONCORD_BROKER_ACK_SECONDS`
the ack comes, or the request fails with `Unavailable`: the web server answers 503 with
`Retry-After`, inbound mail a temporary failure (451), and nothing is shown. Storing a
report's files is not the broker's time (`paused`).

A record sent before the deadline may still reach the broker after it: sending it again
is safe, as every record a request writes is taken once by its key (a signal by its id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any

from aiokafka.errors import KafkaError

#: What `Retry-After` tells a client to wait before sending again, in seconds.
RETRY_AFTER = 5


class Unavailable(Exception):
    """The broker did not take a request's records in time (or refused them): the
    request is answered with a temporary failure, and nothing is shown or promised."""


#: A shorter deadline for the requests answered in this context (`at_most`).
_AT_MOST: ContextVar[float | None] = ContextVar("ack_at_most", default=None)
#: The deadline of the request this task is answering, if any (`within`).
_DEADLINE: ContextVar[asyncio.Timeout | None] = ContextVar("ack_deadline", default=None)


@contextlib.asynccontextmanager
async def within(seconds: float) -> AsyncIterator[None]:
    """Run the block with a deadline; a broker that does not answer in time, or refuses,
    raises `Unavailable`."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            token = _DEADLINE.set(deadline)
            try:
                yield
            finally:
                _DEADLINE.reset(token)
    except TimeoutError as exc:
        if not deadline.expired():  # another's time limit (the evidence store's, say)
            raise
        raise Unavailable(f"the broker did not confirm within {seconds:g} s") from exc
    except KafkaError as exc:
        raise Unavailable(f"the broker refused: {type(exc).__name__}") from exc


@contextlib.contextmanager
def at_most(seconds: float) -> Iterator[None]:
    """Inside, a request waits at most `seconds` for the broker, whatever the setting: a
    caller that gives up sooner (Slack waits 3 s for an answer to a click) hears why."""
    token = _AT_MOST.set(seconds)
    try:
        yield
    finally:
        _AT_MOST.reset(token)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """A step inside a deadline that is not the broker's (putting a report's files in
    the evidence store, which has its own time limits): its time does not count, so a
    large upload is not taken for a broker that does not answer."""
    deadline = _DEADLINE.get()
    when = deadline.when() if deadline is not None else None
    if deadline is None or when is None:
        yield
        return
    loop = asyncio.get_running_loop()
    left = when - loop.time()
    deadline.reschedule(None)
    try:
        yield
    finally:
        deadline.reschedule(loop.time() + max(left, 0.0))


async def acked(seconds: float, *sending: Awaitable[Awaitable[Any]]) -> None:
    """Send (each of `sending` gives the broker's future once the record is buffered),
    then wait for every ack, all within `seconds`."""
    limit = _AT_MOST.get()
    try:
        async with within(seconds if limit is None else min(seconds, limit)):
            futures = [await send for send in sending]
            # Shielded: at the deadline the wait ends, not the producer's own future,
            # which Faust still completes when the broker answers.
            await asyncio.gather(*(asyncio.shield(f) for f in futures))
    finally:
        for send in sending:  # not started when the deadline came first
            if isinstance(send, Coroutine):
                send.close()
