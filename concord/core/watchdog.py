"""The watchdog's rule: a partition is *stalled* when a record has been waiting on it,
with no progress of its committed offset, for longer than a threshold, and that held at
several looks in a row. Pure: the agent gives it the end offsets and the committed
offsets it reads, and the time.

The clock is the time records have been *waiting*, not the time since the last commit:
a partition that was idle for an hour and then gets a burst has waited for nothing yet.
It starts when a look first finds records past the committed offset, and starts again
whenever the committed offset moves (the stage is getting through them) or nothing is
waiting any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: How many looks in a row must find a partition waiting past the threshold.
CONSECUTIVE = 3


@dataclass
class Seen:
    """What the last look found of one partition."""

    offset: int | None
    waiting_since: float | None
    strikes: int = 0


@dataclass
class Watch:
    """Each watched partition: its committed offset, since when records wait on it, and
    how many looks in a row found them waiting too long."""

    threshold: float
    consecutive: int = CONSECUTIVE
    _seen: dict[str, Seen] = field(default_factory=dict)

    def look(
        self, ends: dict[str, int], committed: dict[str, int | None], now: float
    ) -> dict[str, float]:
        """The stalled partitions (label -> seconds records have waited)."""
        stalled: dict[str, float] = {}
        for label in [k for k in self._seen if k not in ends]:
            del self._seen[label]  # no longer ours (a rebalance)
        for label, end in ends.items():
            offset = committed.get(label)
            # Committed offsets are the next record to read, or the last one read: both
            # readings agree there is work waiting when the end is past offset + 1.
            waiting = end > (offset if offset is not None else -1) + 1
            seen = self._seen.get(label)
            if seen is None or seen.offset != offset or not waiting or seen.waiting_since is None:
                # First sight, progress, nothing to do, or the first record after a quiet
                # time: a new clock, started now if anything waits.
                self._seen[label] = Seen(offset, now if waiting else None)
                continue
            waited = now - seen.waiting_since
            seen.strikes = seen.strikes + 1 if waited > self.threshold else 0
            if seen.strikes >= self.consecutive:
                stalled[label] = round(waited, 1)
        return stalled
