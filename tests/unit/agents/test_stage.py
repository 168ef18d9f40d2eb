"""Every agent's loop (concord.agents.stage): a record whose handling fails, or whose
audit record cannot be sent, is a dead letter; the loop goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from concord.agents.stage import consume_raw
from concord.streams.audit import AuditRecord
from concord.worker.metrics import Metrics
from concord.worker.runtime import Flow, Where


@dataclass
class Message:
    value: bytes
    offset: int
    topic: str = "concord.signals"
    partition: int = 0
    key: bytes | None = None


@dataclass
class Event:
    message: Message


class Stream:
    def __init__(self, values: list[bytes]) -> None:
        self.values = values

    async def events(self) -> AsyncIterator[Event]:
        for i, value in enumerate(self.values):
            yield Event(Message(value, i))


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
    stream = Stream([b"a", b"bad", b"c"])
    asyncio.run(consume_raw(f, "correlate", stream, handle_for(f, handled)))
    assert handled == ["a", "c"]
    assert f.dead == [("bad", 1, "correlate failed: ValueError")]
    audit = cast(Topics, f.topics).audit
    assert [[e.subject for e in r.entries] for r in audit.sent] == [["a"], ["bad"], ["c"]]


def test_a_record_whose_audit_record_cannot_be_sent_is_a_dead_letter() -> None:
    f = flow(refuse_audit=True)
    handled: list[str] = []
    stream = Stream([b"a", b"b"])
    asyncio.run(consume_raw(f, "plan", stream, handle_for(f, handled)))
    assert handled == ["a", "b"]  # handled, but its audit record could not be written
    assert f.dead == [("a", 0, "plan failed: RuntimeError"), ("b", 1, "plan failed: RuntimeError")]
