"""Retention's sweep (concord.agents.retention): only when caught up, only its own subjects."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

from concord.agents.retention import Holdings, sweep
from concord.common.types import utcnow
from concord.core.erasure import Due, Retention
from concord.streams.keys import DataKey
from concord.worker.runtime import Flow


class Recorder:
    def __init__(self) -> None:
        self.erased: list[tuple[Due, str]] = []

    async def erase(self, due: Due, actor: str, channel: str) -> None:
        self.erased.append((due, actor))


def test_sweep_waits_for_the_read_model_and_erases_only_its_own_subjects() -> None:
    old = utcnow() - timedelta(days=31)
    keys = {k: DataKey(id=k, subject=f"s-{k}", wrapped="w", kek="f", created_at=old) for k in "ab"}
    flow = Recorder()
    ready = [False]
    held = Holdings(keys, lambda: [], lambda: ready[0])
    run: Any = lambda: sweep(cast(Flow, flow), held, Retention(), lambda s: s == "s-a")
    asyncio.run(run())
    assert flow.erased == []  # situations not all read yet: they must not look like none
    ready[0] = True
    asyncio.run(run())
    assert [(d.subject, d.keys, actor) for d, actor in flow.erased] == [
        ("s-a", ("a",), "retention")
    ]
