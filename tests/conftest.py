"""Shared fixtures: a real broker, a real SMTP server, a local Slack Web API, a real worker.

The broker is the embedded Tansu by default; `CONCORD_TEST_BROKER=host:port` uses a
running Kafka, and `CONCORD_TEST_BROKER=container` starts Apache Kafka with
testcontainers (needs a Docker engine).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from concord.embedded.broker import EmbeddedBroker
from concord.embedded.net import free_port
from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from concord.embedded.standin import MATRIX_TOKEN, StandIn

# Property tests: no per-example deadline (a shared 2-core machine is slow at times).
settings.register_profile(
    "concord", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("concord")

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run in parallel (`make test` uses pytest-xdist's `--dist loadgroup`), the tests that
    share the session's worker all go to one process: one broker, one worker, and the
    state they build up in order. Tests with stacks of their own spread over the others."""
    for item in items:
        if "worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("session-worker"))


SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def wait_until(probe: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except (OSError, AssertionError, KeyError) as exc:
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s (last error: {last_exc!r})")


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    target = os.environ.get("CONCORD_TEST_BROKER", "")
    if target == "container":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield "kafka://" + kafka.get_bootstrap_server()
    elif target:
        yield target if "://" in target else f"kafka://{target}"
    else:
        broker = EmbeddedBroker().start()
        try:
            yield broker.url
        finally:
            broker.stop()


@pytest.fixture(scope="session")
def outbox() -> Outbox:
    return Outbox(limit=10_000)


@pytest.fixture(scope="session")
def smtp_server(outbox: Outbox) -> Iterator[SmtpCapture]:
    server = SmtpCapture(outbox).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def standin_server(outbox: Outbox) -> Iterator[StandIn]:
    server = StandIn(outbox).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slack_server(outbox: Outbox) -> Iterator[SlackApiServer]:
    server = SlackApiServer(outbox, token="xoxb-test-token").start()
    yield server
    server.stop()


@dataclass
class Http:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Worker:
    """A running `concord worker` subprocess and how to talk to it."""

    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    base: str
    log: Path
    data_dir: Path
    #: the broker's process, when the worker has one of its own (`private_worker`)
    broker_pid: int | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Http:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                payload = resp.read()
                status, headers = resp.status, dict(resp.headers)
        except urllib.error.HTTPError as exc:
            payload, status, headers = exc.read(), exc.code, dict(exc.headers)
        try:
            parsed: Any = json.loads(payload) if payload else None
        except json.JSONDecodeError:
            parsed = payload.decode(errors="replace")
        return Http(status, parsed, headers)

    def cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "concord.cli", *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            timeout=60,
        )

    def metric(self, name: str) -> float:
        text = self.request("GET", "/metrics").body
        total = 0.0
        for line in str(text).splitlines():
            if line.startswith(name):
                total += float(line.rsplit(" ", 1)[1])
        return total


def worker_env(
    broker_url: str,
    smtp: SmtpCapture,
    slack: SlackApiServer,
    data_dir: Path,
    port: int,
    standin: StandIn | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update(
        CONCORD_BROKER=broker_url,
        # A fresh app id per session: its consumer groups and changelogs start empty.
        CONCORD_APP_ID=f"concord-test-{uuid.uuid4().hex[:8]}",
        CONCORD_STORE="memory://",
        CONCORD_SESSION_TIMEOUT="6",
        CONCORD_WEB_PORT=str(port),
        CONCORD_DATA_DIR=str(data_dir),
        CONCORD_PLAYBOOKS=str(ROOT / "playbooks"),
        CONCORD_DIRECTORY=str(ROOT / "directory.yml"),
        CONCORD_SMTP_HOST=smtp.host,
        CONCORD_SMTP_PORT=str(smtp.port),
        CONCORD_SMTP_FROM="concord@city.example",
        CONCORD_SLACK_TOKEN=slack.token,
        CONCORD_SLACK_API_URL=slack.url,
        CONCORD_RETRY_BASE_SECONDS="0.05",
        CONCORD_MAX_BODY_BYTES="20000",
        CONCORD_LOG_LEVEL="info",
        # CONCORD_TEST_TRACE=1 pytest ...: every worker traces its partitions.
        CONCORD_TRACE="1" if os.environ.get("CONCORD_TEST_TRACE") else "0",
        CONCORD_PUBLIC_URL="https://concord.city.example",
        CONCORD_SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
        CONCORD_TICK_SECONDS="0.5",
    )
    if standin is not None:  # Teams, Matrix, Mattermost, Rocket.Chat and webhooks
        env.update(
            CONCORD_CHANNEL_STANDIN_URL=standin.url,
            CONCORD_MATRIX_HOMESERVER=standin.url,
            CONCORD_MATRIX_TOKEN=MATRIX_TOKEN,
        )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "concord.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    return proc


def wait_healthy(w: Worker, timeout: float = 60.0) -> None:
    def ok() -> bool:
        if w.proc.poll() is not None:
            raise RuntimeError(f"worker exited {w.proc.returncode}:\n{w.log.read_text()[-3000:]}")
        return w.request("GET", "/healthz").status == 200

    wait_until(ok, timeout=timeout, interval=0.2)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def worker(
    broker_url: str,
    smtp_server: SmtpCapture,
    slack_server: SlackApiServer,
    standin_server: StandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    data_dir = tmp_path_factory.mktemp("concord-data")
    port = free_port()
    env = worker_env(broker_url, smtp_server, slack_server, data_dir, port, standin_server)
    # A copy, so that live-reload tests can edit the worker's playbooks.
    shutil.copytree(ROOT / "playbooks", data_dir / "playbooks")
    env["CONCORD_PLAYBOOKS"] = str(data_dir / "playbooks")
    env["CONCORD_PLAYBOOKS_POLL_SECONDS"] = "0.5"
    # A watchdog far stricter than production's, that never exits: no test of the
    # session provokes a stall, so any it reports is a false alarm or a real stall.
    env["CONCORD_WATCHDOG_SECONDS"] = "30"
    env["CONCORD_WATCHDOG_EXIT"] = "false"
    log = data_dir / "worker.log"
    proc = start_worker(env, log)
    w = Worker(proc, env, f"http://127.0.0.1:{port}", log, data_dir)
    try:
        wait_healthy(w)
        yield w
        assert w.metric("concord_stalls_total") == 0, "the watchdog found a stall"
    finally:
        stop_worker(proc)


@pytest.fixture(scope="session")
def tokens(worker: Worker) -> dict[str, str]:
    """One API token per role, created with the CLI and accepted by the worker."""
    made: dict[str, str] = {}
    for role, extra in (
        ("producer", []),
        ("coordinator", []),
        ("panel", []),
        ("liaison", ["--agency", "police"]),
        ("operator", []),
    ):
        # A panel token is named after its member, a liaison token after the liaison.
        name = {"panel": "panel-researcher", "liaison": "police-duty"}.get(role, f"test-{role}")
        result = worker.cli("token", "create", name, "--role", role, *extra)
        assert result.returncode == 0, result.stderr.decode()
        made[role] = result.stdout.decode().strip()
    # Effective without restart: wait until the worker's read model has them all.
    wait_until(
        lambda: all(
            worker.request("GET", "/api/tasks", token=t).status != 401 for t in made.values()
        ),
        timeout=30,
    )
    return made


@pytest.fixture(scope="session")
def panel_tokens(worker: Worker, tokens: dict[str, str]) -> dict[str, str]:
    """A vote token per panel member (a panel token is named after its member)."""
    made = {"panel-researcher": tokens["panel"]}
    for member in ("panel-practitioner", "panel-community"):
        result = worker.cli("token", "create", member, "--role", "panel")
        assert result.returncode == 0, result.stderr.decode()
        made[member] = result.stdout.decode().strip()
    wait_until(
        lambda: all(
            worker.request("GET", "/api/reviews", token=t).status == 200 for t in made.values()
        ),
        timeout=30,
    )
    return made


def approve(worker: Worker, panel_tokens: dict[str, str], situation: str) -> None:
    """Two panel members approve the situation's current analysis (the quorum)."""
    review = wait_until(
        lambda: (
            (
                r := worker.request(
                    "GET", f"/api/reviews/{situation}", token=panel_tokens["panel-researcher"]
                )
            ).status
            == 200
            and r.body
        ),
        timeout=30,
    )
    for member in ("panel-researcher", "panel-practitioner"):
        body = {"decision": "approve", "version": review["version"]}
        resp = worker.request(
            "POST", f"/api/reviews/{situation}/votes", body, token=panel_tokens[member]
        )
        assert resp.status == 202, resp.body


_DAYS = itertools.count(1)


def unique_time() -> str:
    """An occurred_at days apart from every other test's, so situations never merge."""
    moment = datetime(2020, 1, 1, 12, tzinfo=UTC) + timedelta(days=3 * next(_DAYS))
    return moment.isoformat()


def make_signal(**overrides: Any) -> dict[str, Any]:
    """A valid signal with a unique id and day; override any field."""
    base: dict[str, Any] = {
        "id": f"t-{uuid.uuid4().hex[:10]}",
        "kind": "incident",
        "category": "hate_crime",
        "bias": ["anti_black"],
        "severity": 4,
        "occurred_at": unique_time(),
        "area": "north",
        "source": {"type": "ngo", "name": "Test NGO"},
        "summary": "Test incident at the tram stop.",
        "language": "en",
    }
    base.update(overrides)
    return base


@contextlib.contextmanager
def private_worker(
    smtp: SmtpCapture,
    slack: SlackApiServer,
    root: Path,
    playbooks: dict[str, str],
    standin: StandIn | None = None,
    **settings: str,
) -> Iterator[tuple[Worker, str]]:
    """A worker on a broker of its own (a new app id on the session's broker would replay
    every topic), with extra playbooks and settings (`CONCORD_` + the name, upper-case);
    yields it and a producer token. Restart it with `restart(worker)`."""
    broker = EmbeddedBroker().start()
    port = free_port()
    env = worker_env(broker.url, smtp, slack, root, port, standin)
    env.update({f"CONCORD_{k.upper()}": v for k, v in settings.items()})
    shutil.copytree(ROOT / "playbooks", root / "playbooks")
    for name, text in playbooks.items():
        (root / "playbooks" / name).write_text(text)
    env["CONCORD_PLAYBOOKS"] = str(root / "playbooks")
    log = root / "worker.log"
    w = Worker(start_worker(env, log), env, f"http://127.0.0.1:{port}", log, root)
    w.broker_pid = broker.proc.pid if broker.proc is not None else None
    try:
        wait_healthy(w)
        made = w.cli("token", "create", "private-producer", "--role", "producer")
        producer = made.stdout.decode().strip()
        wait_until(lambda: w.request("GET", "/api/tasks", token=producer).status == 403)
        yield w, producer
    finally:
        stop_worker(w.proc)
        broker.stop()


def restart(w: Worker, *, kill: bool = False) -> None:
    """Stop the worker (SIGTERM, or SIGKILL: a crash) and start it again; its tables come
    back from Kafka."""
    if kill:
        w.proc.kill()
        w.proc.wait()
    else:
        stop_worker(w.proc)
    w.proc = start_worker(w.env, w.log)
    wait_healthy(w)
