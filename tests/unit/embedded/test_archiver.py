"""concord.embedded.archiver: the archiver process leaves Ctrl-C and SIGTERM to `concord up`."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from concord.embedded.archiver import Source, _copy_until_told


def test_the_archiver_ignores_the_signals_its_process_group_gets(tmp_path: Path) -> None:
    # Ctrl-C and a supervisor's SIGTERM reach every process of the group; the archiver
    # must go on copying until `concord up` says its worker has stopped writing.
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stop = multiprocessing.get_context("spawn").Event()
    stop.set()  # told at once: it copies what it can (nothing: no broker) and returns
    try:
        source = Source("127.0.0.1:1", (), frozenset())
        _copy_until_told(str(tmp_path / "archive.sqlite3"), source, stop, os.getppid())
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    assert (tmp_path / "archive.sqlite3").exists()
