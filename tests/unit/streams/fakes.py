"""A stand-in for the part of a Faust stream that `concord.streams.patches.batches`
drives (the stage loop's tests and the patches' tests share it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


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
    """The part of Faust's stream that `patches.batches` drives: a drain that runs the
    processors on each record, acks. Each batch given is drained once the one before is
    acked."""

    def __init__(self, *batches: list[bytes]) -> None:
        self.batches = batches
        self.processors: list[Any] = []
        self.enable_acks = True
        self.should_stop = False
        self.channel = self  # what Faust drains; here the batches above
        self.current_event: Event | None = None
        self.acked: list[int] = []
        self.drained = asyncio.Event()
        self.moved = asyncio.Event()  # set at each ack

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> None:
        raise StopAsyncIteration

    def add_processor(self, processor: Any) -> None:
        self.processors.append(processor)

    def _enable_passive(self, channel: Any) -> None:
        asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        offset = 0
        for batch in self.batches:
            await self.acked_up_to(offset)
            for value in batch:
                self.current_event = Event(Message(value, offset))
                offset += 1
                for processor in self.processors:
                    await processor(value)
        await self.acked_up_to(offset)
        self.drained.set()

    async def acked_up_to(self, count: int) -> None:
        while len(self.acked) < count:
            self.moved.clear()
            await self.moved.wait()

    async def ack(self, event: Event) -> None:
        self.acked.append(event.message.offset)
        self.moved.set()
