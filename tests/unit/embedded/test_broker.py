"""concord.embedded.broker: a broker slow to exit does not hold `concord up`'s stop."""

from __future__ import annotations

import subprocess
import sys
import time

from concord.embedded.broker import STOP_GRACE_SECONDS, EmbeddedBroker


def test_a_broker_that_does_not_exit_on_sigterm_is_killed_after_the_grace() -> None:
    # A stand-in for Tansu, which once took ~6 s to exit: it ignores SIGTERM.
    script = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"  # its handler is in place
    broker = EmbeddedBroker(port=1)
    broker.proc = proc
    started = time.monotonic()
    broker.stop()
    took = time.monotonic() - started
    assert proc.returncode == -9  # killed, not exited
    assert STOP_GRACE_SECONDS <= took < STOP_GRACE_SECONDS + 5
    assert broker.proc is None
    proc.stdout.close()
