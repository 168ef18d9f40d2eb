"""How many partitions `concord up` runs with (concord.cli.local.partitioned)."""

from __future__ import annotations

import pytest

from concord.cli.local import UP_PARTITIONS, archived_partitions, partitioned
from concord.config.settings import Settings


def test_up_runs_on_one_partition_unless_told_or_archived(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert UP_PARTITIONS == 1
    # (CONCORD_PARTITIONS, the archive's topics' partitions, runs with, says why)
    table: list[tuple[str | None, int | None, int, bool]] = [
        (None, None, 1, False),  # a new archive, or none
        ("3", None, 3, False),  # asked for
        (None, 4, 4, False),  # an archive made before: its topics keep 4
        ("4", 4, 4, False),
        ("2", 4, 4, True),  # asked for, but the archive's topics have 4
        ("1", 4, 4, True),
    ]
    for asked, archived, expected, said in table:
        if asked is None:
            monkeypatch.delenv("CONCORD_PARTITIONS", raising=False)
        else:
            monkeypatch.setenv("CONCORD_PARTITIONS", asked)
        # as `concord up` has it by then: the broker's settings already changed
        settings = Settings().with_(broker="tcp://127.0.0.1:1", store="memory://")
        assert partitioned(settings, archived).partitions == expected, (asked, archived)
        out = " ".join(capsys.readouterr().out.split())  # the console wraps lines
        assert ("applies to a new archive only" in out) is said, (asked, archived, out)


def test_an_archive_s_partitions_are_its_signals_topic_s() -> None:
    assert archived_partitions({}) is None
    assert archived_partitions({"concord.signals": (4, False), "x": (8, True)}) == 4
    assert archived_partitions({"concord.audit": (2, False), "x": (3, True)}) == 3
