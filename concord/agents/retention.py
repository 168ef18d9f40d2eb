"""Retention: every `CONCORD_RETENTION_CHECK_SECONDS`, personal data due to go is erased
(`concord.core.erasure.due`: N days after its situation closed, M days after it arrived
if no situation ever held it), each erasure audited with the actor `retention`.

Each worker erases the subjects that hash to the partitions of `concord.signals.in` it
consumes, so every subject has one worker looking after it. It waits until its read model
has caught up with the topics: a situation not read yet must not look like none.
`concord retention run --dry-run` lists the same from the CLI.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from concord.agents.stage import every, owner
from concord.common.types import utcnow
from concord.core.erasure import RETENTION_ACTOR, Retention, due
from concord.streams import topics as t
from concord.streams.keys import DataKey
from concord.streams.situations import Situation
from concord.worker.runtime import Flow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holdings:
    """What the retention check reads: the live data keys and the situations, and
    whether they are complete yet."""

    keys: Mapping[str, DataKey]
    situations: Callable[[], Iterable[Situation]]
    ready: Callable[[], bool]


async def sweep(flow: Flow, held: Holdings, policy: Retention, ours: Callable[[str], bool]) -> None:
    """Erase what is due among this worker's subjects."""
    if not held.ready():
        return
    gone = 0
    for item in due(list(held.keys.values()), held.situations(), utcnow(), policy):
        if ours(item.subject):
            await flow.erase(item, RETENTION_ACTOR, "retention")
            gone += 1
    if gone:
        log.info("retention: erased the personal data of %d signals", gone)


def register(
    app: Any, flow: Flow, held: Holdings, policy: Retention, seconds: float, partitions: int
) -> None:
    """Bind the retention check as a timer of every worker."""
    ours = owner(app, t.SIGNALS_IN.name, partitions)
    every(app, seconds, "retention", functools.partial(sweep, flow, held, policy, ours))
