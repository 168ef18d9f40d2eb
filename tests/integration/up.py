"""`concord up` as a user runs it, for the tests that need the whole single-machine
stack: a real process in its own directory, the embedded broker, the archive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from concord.embedded.net import free_port
from tests.conftest import ROOT, wait_until


class Up:
    """One `concord up` in a directory; restarted on the same data."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
        self.env.update(
            CONCORD_WEB_PORT=str(self.port),
            CONCORD_DATA_DIR=str(home / "data"),
            CONCORD_PLAYBOOKS=str(ROOT / "playbooks"),
            CONCORD_DIRECTORY=str(ROOT / "directory.yml"),
            COLUMNS="200",
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def archive(self) -> Path:
        return self.home / "data" / "archive.sqlite3"

    def start(self) -> None:
        self.runs += 1
        log = self.home / f"up{self.runs}.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "concord.cli", "up"],
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: self.get("/healthz")[0] == 200, timeout=90, interval=0.3)

    def cli(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "concord.cli", *args],
            env=self.env,
            cwd=self.home,
            input=stdin,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode().strip()

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = resp.read()
                kind = resp.headers.get("Content-Type", "")
                return resp.status, json.loads(body) if "json" in kind else body.decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return getattr(exc, "code", 0), None

    def post(self, path: str, body: Any, token: str) -> int:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(), method="POST"
        )
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=15) as resp:
            return int(resp.status)

    def tokens(self) -> tuple[str, str]:
        """A coordinator's and a producer's token, once the worker accepts them."""
        coordinator = self.cli("token", "create", "ops", "--role", "coordinator")
        producer = self.cli("token", "create", "feed", "--role", "producer")
        wait_until(lambda: self.get("/api/tasks", coordinator)[0] == 200)
        return coordinator, producer

    def stop(self, how: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(how)
        return self.proc.wait(timeout=60)
