"""The watchdog's rule (concord.core.watchdog), as literal tables of looks."""

from __future__ import annotations

import pytest

from concord.core.watchdog import Watch

#: One look: (now, end offset, committed offset, the stalled seconds it reports or None).
Look = tuple[float, int, int | None, float | None]


def play(looks: list[Look], threshold: float = 30, consecutive: int = 3) -> None:
    w = Watch(threshold=threshold, consecutive=consecutive)
    for now, end, committed, stalled in looks:
        found = w.look({"t:0": end}, {"t:0": committed}, now)
        assert found == ({"t:0": stalled} if stalled is not None else {}), (now, found)


@pytest.mark.parametrize(
    "looks",
    [
        # A partition that really hangs on a record: caught after the threshold, once
        # three looks in a row agree.
        [
            (0, 10, 4, None),
            (29, 10, 4, None),
            (31, 10, 4, None),
            (36, 10, 4, None),
            (41, 10, 4, 41.0),
            (46, 12, 4, 46.0),
        ],
        # Progress starts the clock again.
        [
            (0, 10, 4, None),
            (31, 10, 4, None),
            (36, 10, 4, None),
            (37, 12, 5, None),
            (66, 12, 5, None),
            (68, 12, 5, None),
            (70, 12, 5, None),
            (72, 12, 5, 35.0),
        ],
        # Idle for five minutes, then a burst: the records have waited for nothing yet,
        # and once they are handled nothing waits.
        [
            (0, 5, 4, None),
            (300, 5, 4, None),
            (305, 9, 4, None),
            (310, 9, 4, None),
            (315, 9, 8, None),
            (320, 9, 8, None),
        ],
        # A slow stage that keeps committing is never stalled.
        [(t, 1000, t // 5, None) for t in range(0, 600, 5)],
        # Nothing ever committed, records waiting: the clock runs from the first sight.
        [(0, 3, None, None), (31, 3, None, None), (36, 3, None, None), (41, 3, None, 41.0)],
        # Nothing waiting is never stalled, however long.
        [(0, 5, 4, None), (1000, 5, 4, None), (2000, 5, 4, None), (3000, 5, 4, None)],
        # A committed offset that moves back (a rebalance's restart) is progress too.
        [
            (0, 6, 5, None),
            (40, 6, 4, None),
            (45, 6, 4, None),
            (75, 6, 4, None),
            (80, 6, 4, None),
            (85, 6, 4, 45.0),
        ],
    ],
)
def test_when_a_partition_is_stalled(looks: list[Look]) -> None:
    play(looks)


def test_one_look_past_the_threshold_is_not_enough() -> None:
    # Two looks in a row past the threshold, then progress: never reported.
    play([(0, 10, 4, None), (31, 10, 4, None), (36, 10, 4, None), (37, 11, 10, None)])


def test_partitions_taken_away_are_forgotten() -> None:
    w = Watch(threshold=1, consecutive=1)
    w.look({"t:0": 6}, {"t:0": 4}, now=0)
    assert w.look({"t:0": 6}, {"t:0": 4}, now=2) == {"t:0": 2.0}
    w.look({}, {}, now=3)  # a rebalance took everything away
    assert w.look({"t:0": 6}, {"t:0": 4}, now=200) == {}  # seen anew
