"""What an agent's unit test gives it in place of Faust: in-memory tables, and topics
that record what is sent (the stage's rules and its table code run for real)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.unit.factories import FaustApp


class App(FaustApp):
    """Makes a stage's tables as dicts (`concord.streams.tables.Table` wraps them)."""


@dataclass
class Topic:
    """A topic that records each (key, value) sent to it."""

    sent: list[tuple[str, Any]] = field(default_factory=list)

    async def send(self, key: str, value: Any) -> None:
        self.sent.append((key, value))
