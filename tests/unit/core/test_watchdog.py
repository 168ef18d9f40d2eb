"""The watchdog's rule (concord.core.watchdog)."""

from __future__ import annotations

from concord.core.watchdog import Watch


def test_a_partition_with_work_and_no_progress_is_stalled_after_the_threshold() -> None:
    w = Watch(threshold=30)
    assert w.look({"t:0": 10}, {"t:0": 4}, now=0) == {}  # first sight: the clock starts
    assert w.look({"t:0": 12}, {"t:0": 4}, now=29) == {}
    assert w.look({"t:0": 12}, {"t:0": 4}, now=31) == {"t:0": 31.0}
    assert w.look({"t:0": 12}, {"t:0": 5}, now=32) == {}  # it moved: the clock starts again
    assert w.look({"t:0": 12}, {"t:0": 5}, now=61) == {}
    assert w.look({"t:0": 12}, {"t:0": 5}, now=63) == {"t:0": 31.0}


def test_nothing_waiting_is_never_stalled_and_lost_partitions_are_forgotten() -> None:
    w = Watch(threshold=1)
    w.look({"t:0": 5, "t:1": 0}, {"t:0": 5, "t:1": None}, now=0)
    assert w.look({"t:0": 5, "t:1": 0}, {"t:0": 5, "t:1": None}, now=100) == {}
    assert w.look({"t:0": 6}, {"t:0": 4}, now=101) == {}  # t:0 moved back: a new clock
    assert w.look({"t:0": 6}, {"t:0": 4}, now=103) == {"t:0": 2.0}
    w.look({}, {}, now=104)  # a rebalance took everything away
    assert w.look({"t:0": 6}, {"t:0": 4}, now=200) == {}  # seen anew
    never = Watch(threshold=1)
    never.look({"t:2": 3}, {}, now=0)
    assert never.look({"t:2": 3}, {}, now=5) == {"t:2": 5.0}  # nothing ever committed
