"""The archive (concord.embedded.archive) keeps no erased key and no consumed raw bytes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from concord.embedded.archive import Archive, Record


def rec(topic: str, offset: int, key: bytes, value: bytes | None) -> Record:
    return Record(topic, 0, offset, key, value, [], 0)


def test_a_later_record_of_a_key_deletes_its_earlier_ones_on_the_key_topic(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    shredded = frozenset({"concord.keys"})
    archive.add([rec("concord.keys", 0, b"k1", b"wrapped-1"), rec("concord.keys", 1, b"k2", b"w2")])
    archive.add([rec("concord.keys", 2, b"k1", None)], shredded)  # erased
    archive.add([rec("concord.keys", 3, b"k2", b"rewrapped")], shredded)  # rotated
    archive.add([rec("other", 0, b"a", b"1"), rec("other", 1, b"a", b"2")], shredded)
    kept = [(r.offset, r.key, r.value) for r in archive.records("concord.keys", 0)]
    assert kept == [(2, b"k1", None), (3, b"k2", b"rewrapped")]
    assert len(list(archive.records("other", 0))) == 2  # other topics as they were
    raw = (tmp_path / "a.sqlite3").read_bytes()
    assert b"wrapped-1" not in raw or b"wrapped-1" not in _vacuumed(archive, tmp_path)


def _vacuumed(archive: Archive, tmp_path: Path) -> bytes:
    archive.db.execute("vacuum")
    return (tmp_path / "a.sqlite3").read_bytes()


def test_consumed_raw_bytes_are_dropped(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    archive.add([rec("concord.signals.in", i, b"k", b"raw %d" % i) for i in range(5)])
    archive.drop_below("concord.signals.in", 0, 3)
    assert [r.offset for r in archive.records("concord.signals.in", 0)] == [3, 4]


def test_renumbering_is_all_or_nothing_even_when_the_process_dies_midway(
    tmp_path: Path,
) -> None:
    """`renumber` deletes a partition's records and adds them under their new offsets: a
    crash between the two steps must leave the partition as it was, not gone."""
    path = tmp_path / "a.sqlite3"
    archive = Archive(path)
    archive.add([rec("concord.tasks", i, b"k%d" % i, b"v%d" % i) for i in range(3)])
    archive.close()
    crash = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from concord.embedded.archive import Archive
        archive = Archive(Path({str(path)!r}))
        def die(*args, **kwargs):
            os._exit(9)  # the process dies between the delete and the insert
        archive._insert = die
        archive.renumber("concord.tasks", 0, {{0: 10, 1: 11, 2: 12}})
        """
    )
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, timeout=60)
    assert done.returncode == 9, done.stderr
    after = Archive(path)
    assert [(r.offset, r.value) for r in after.records("concord.tasks", 0)] == [
        (0, b"v0"),
        (1, b"v1"),
        (2, b"v2"),
    ]
    after.renumber("concord.tasks", 0, {0: 10, 1: 11, 2: 12})  # and without the crash
    assert [r.offset for r in after.records("concord.tasks", 0)] == [10, 11, 12]
