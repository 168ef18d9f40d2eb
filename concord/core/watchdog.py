"""The watchdog's rule: a partition is *stalled* when it has records waiting and its
committed offset has not moved for longer than a threshold. Pure: the agent gives it the
end offsets and the committed offsets it reads, and the time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Watch:
    """The committed offset of each watched partition, and since when it has not moved."""

    threshold: float
    _since: dict[str, tuple[int | None, float]] = field(default_factory=dict)

    def look(
        self, ends: dict[str, int], committed: dict[str, int | None], now: float
    ) -> dict[str, float]:
        """The stalled partitions (label -> seconds without progress). A partition seen
        for the first time, or whose committed offset moved, starts its clock again;
        one with nothing waiting is never stalled."""
        stalled: dict[str, float] = {}
        for label in [k for k in self._since if k not in ends]:
            del self._since[label]  # no longer ours (a rebalance)
        for label, end in ends.items():
            offset = committed.get(label)
            seen = self._since.get(label)
            if seen is None or seen[0] != offset:
                self._since[label] = (offset, now)
                continue
            # Committed offsets are the next record to read, or the last one read: both
            # readings agree there is work waiting when the end is past offset + 1.
            waiting = end > (offset if offset is not None else -1) + 1
            idle = now - seen[1]
            if waiting and idle > self.threshold:
                stalled[label] = round(idle, 1)
        return stalled
