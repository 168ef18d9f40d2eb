"""The watchdog: every few seconds, each partition this worker consumes is checked for
records that have waited with no progress (`concord.core.watchdog`: the clock is how
long records have waited, never how long a quiet partition has been quiet). A stalled
partition is named on `/healthz` (503), counted on `/metrics`
(`concord_stalled_partitions`) and logged; once records have waited twice the threshold
(`CONCORD_WATCHDOG_SECONDS`), the worker runs its `before_exit` steps (`concord up`
stops its broker and archive and says why) and exits with code 70 so that its
supervisor restarts it (`CONCORD_WATCHDOG_EXIT=false` keeps it running). Progress is
the consumer's committed offset: it stops moving whether fetching stopped (a recovery
race) or a stage hangs on a record. The same look asks whether the
broker answers: while it does not, `/healthz` answers 503 (`broker_unreachable`), one
line is logged when it goes and one when it is back; Faust's and aiokafka's clients
reconnect by themselves, with their own backoff.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concord.agents.stage import every
from concord.config.settings import Settings
from concord.core.watchdog import Watch
from concord.streams.patches import trace
from concord.worker.runtime import Flow

log = logging.getLogger(__name__)

#: The exit code of a worker the watchdog stops (EX_SOFTWARE).
EXIT_CODE = 70
CHECK_SECONDS = 5.0


@dataclass
class Watchdog:
    """What the watchdog keeps between looks: when records were first seen waiting."""

    app: Any
    flow: Flow
    watch: Watch
    exit: bool
    bootstrap: list[str]
    ends: Any = field(default=None)  # an aiokafka consumer of its own, for end offsets
    #: what to do before the worker exits (`concord up`: stop cleanly, say why)
    before_exit: list[Callable[[str], None]] = field(default_factory=list)


def watched(app: Any) -> list[Any]:
    """The source partitions this worker consumes (not table changelogs)."""
    try:
        assigned = app.assignor.assigned_actives()
    except Exception:  # not assigned yet
        return []
    return [tp for tp in assigned if not tp.topic.endswith(("-changelog", "-__leader"))]


async def reachable(bootstrap: list[str], timeout: float = 1.0) -> bool:
    """Whether one of the brokers accepts a connection."""
    for server in bootstrap:
        host, _, port = server.rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        except (OSError, ValueError, TimeoutError):
            continue
        writer.close()
        return True
    return False


async def look(w: Watchdog) -> None:
    """One look at every partition: name stalls on `/healthz`, exit the worker past twice the
    threshold."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    up = await reachable(w.bootstrap)
    if up != w.flow.health.broker:  # said once per change, not at every look
        if up:
            log.warning("broker %s answers again", ",".join(w.bootstrap))
        else:
            log.error("broker %s does not answer; Kafka clients retry", ",".join(w.bootstrap))
        w.flow.health.broker = up
    if not up:
        return
    tps = watched(w.app)
    if not tps or not w.flow.health.ready:
        w.watch.look({}, {}, time.monotonic())
        w.flow.health.stalled = {}
        return
    if w.ends is None:
        w.ends = AIOKafkaConsumer(bootstrap_servers=w.bootstrap, group_id=None)
        await w.ends.start()
    ends = await w.ends.end_offsets([TopicPartition(tp.topic, tp.partition) for tp in tps])
    committed = w.app.consumer._committed_offset  # faust's view after each commit
    stalled = w.watch.look(
        {
            f"{tp.topic}:{tp.partition}": int(ends[TopicPartition(tp.topic, tp.partition)])
            for tp in tps
        },
        {f"{tp.topic}:{tp.partition}": committed.get(tp) for tp in tps},
        time.monotonic(),
    )
    if trace.isEnabledFor(logging.INFO):
        waiting(w.app.consumer, tps, ends, committed)
    named = set(w.flow.health.stalled)  # what /healthz said at the look before
    w.flow.metrics.stalls.inc(len(set(stalled) - named))
    w.flow.health.stalled = stalled
    w.flow.metrics.stalled_partitions.set(len(stalled))
    for label, waited in stalled.items():
        log.error("watchdog: records on %s have waited %.0f s with no progress", label, waited)
    # Exit only once `/healthz` has named the stall at an earlier look: the supervisor
    # and whoever watches the health see why before the worker goes, however the looks
    # fall against the threshold.
    too_long = [
        label
        for label, waited in stalled.items()
        if waited > 2 * w.watch.threshold and label in named
    ]
    if w.exit and too_long:
        why = f"records on {', '.join(too_long)} waited over {2 * w.watch.threshold:.0f} s"
        log.critical("watchdog: %s; exiting with %d for a restart", why, EXIT_CODE)
        for step in w.before_exit:
            try:
                step(why)
            except Exception:  # exiting anyway: the next step may still clean up
                log.exception("watchdog: a step before exiting failed")
        logging.shutdown()
        os._exit(EXIT_CODE)  # a crash, as a supervisor sees it: the work is at-least-once


def waiting(consumer: Any, tps: list[Any], ends: Any, committed: Any) -> None:
    """Trace each partition with records past its committed offset, and where Faust's
    consumer has it: the offset it reads from, active, paused or buffered (a partition
    assigned but left out of fetching shows here)."""
    from aiokafka import TopicPartition

    for tp in tps:
        end, done = int(ends[TopicPartition(tp.topic, tp.partition)]), committed.get(tp)
        if done is not None and end <= done:
            continue
        trace.info(
            "waiting %s:%s end %s committed %s read %s active %s paused %s buffered %s",
            tp.topic,
            tp.partition,
            end,
            done,
            consumer._read_offset.get(tp),
            tp in (consumer._active_partitions or ()),
            tp in consumer._paused_partitions,
            tp in consumer._buffered_partitions,
        )


def register(app: Any, flow: Flow, settings: Settings) -> Watchdog:
    """Bind the watchdog's timer."""
    w = Watchdog(
        app,
        flow,
        Watch(settings.watchdog_seconds),
        settings.watchdog_exit,
        settings.bootstrap_servers(),
    )
    every(
        app,
        min(CHECK_SECONDS, settings.watchdog_seconds / 2),
        "watchdog",
        functools.partial(look, w),
    )
    return w
