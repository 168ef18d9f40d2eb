"""A Concord stack for benchmarks: embedded Tansu, local SMTP and Slack Web API servers, a
`concord worker` subprocess with a directory and playbooks made for the measurement.

Not a benchmark itself (`make bench` runs the others). Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concord.core.correlation import situation_id  # noqa: E402
from concord.core.planning import task_id  # noqa: E402
from concord.embedded.broker import EmbeddedBroker  # noqa: E402
from concord.embedded.net import free_port  # noqa: E402
from concord.embedded.outbox import Outbox  # noqa: E402
from concord.embedded.slack_api import SlackApiServer  # noqa: E402
from concord.embedded.smtp import SmtpCapture  # noqa: E402

__all__ = ["EmbeddedBroker", "Stack", "extra_settings", "free_port", "line", "rss_peak_mb", "wait"]

#: One Slack task per incident (the Alertmanager comparison's work).
SLACK_PLAYBOOK = """
id: bench
version: 1
title: Bench
when:
  kind: [incident]
  not: {tags: [pair]}
tasks:
  - id: t
    agency: police
    title: Bench task
    action: Act in {{ area.name }}.
    channels: [slack]
"""
#: The same task on the police's own channels (`directory_yaml(channel=...)`).
AGENCY_PLAYBOOK = SLACK_PLAYBOOK.replace("    channels: [slack]\n", "")

#: One email-only and one Slack-only task per incident tagged `pair` (the outage's work).
PAIR_PLAYBOOK = """
id: pair
version: 1
title: Pair
when:
  kind: [incident]
  tags: [pair]
tasks:
  - id: mail
    agency: support
    title: By email
    action: An email task in {{ area.name }}.
    channels: [email]
  - id: chat
    agency: police
    title: By Slack
    action: A Slack task in {{ area.name }}.
    channels: [slack]
"""


def directory_yaml(areas: int, channel: str = "slack", subscribers: int = 0) -> str:
    """A city of `areas` areas whose police is reached on `channel` (slack, or teams,
    matrix, mattermost, rocketchat through `concord up`'s stand-in), followed by
    `subscribers` webhook subscribers (every event; their secret unset: the stand-in)."""
    rows = "\n".join(f"  - {{code: a{i}, name: Area {i}}}" for i in range(areas))
    chat = {
        "slack": "",
        "teams": ", teams_webhook: {env: BENCH_TEAMS}",
        "matrix": ", matrix_room: '!bench:bench.example'",
        "mattermost": ", mattermost_webhook: {env: BENCH_MATTERMOST}",
        "rocketchat": ", rocketchat_webhook: {env: BENCH_ROCKETCHAT}",
    }[channel]
    hooks = "".join(
        f"  - {{id: hook{i}, url: 'https://hook{i}.bench.example/', secret: {{env: BENCH_HOOK}}}}\n"
        for i in range(subscribers)
    )
    return f"""city: {{name: Bench, timezone: Europe/Brussels, languages: [en]}}
areas:
{rows}
{"webhooks:" if hooks else ""}
{hooks}agencies:
  - id: police
    name: Police
    role: police
    channels: [{channel}]
    liaisons:
      - {{id: duty, name: Duty, slack_channel: C-BENCH, email: duty@bench.example{chat}}}
  - id: support
    name: Support
    role: victim_support
    channels: [email]
    liaisons:
      - {{id: support-duty, name: Support, email: support@bench.example}}
coordinators:
  - {{id: coord, name: Coordinator, email: coord@bench.example}}
"""


def rss_peak_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident memory (VmHWM; `VmRSS`: now), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu(pid: int) -> float:
    """CPU seconds of one process (user and system); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def up_processes(pid: int) -> dict[str, int]:
    """`concord up`'s process and its children by role: `up`, `broker`, `archiver`."""
    found = {"up": pid}
    for kid in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
        if b"tansu" in cmdline:
            found["broker"] = int(kid)
        elif b"spawn_main" in cmdline:
            found["archiver"] = int(kid)
    return found


def up_env(home: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of a `concord up` in `home`: this one's without its `CONCORD_`
    settings, then `settings` (named without the prefix) and `BENCH_SETTINGS`'s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    given = {"web_port": str(port), "data_dir": str(home / "data"), **settings}
    env.update({f"CONCORD_{k.upper()}": v for k, v in {**given, **extra_settings()}.items()})
    return env


@contextlib.contextmanager
def concord_up(home: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`concord up` run from `home` (its log in `home/up.log`), once `/healthz` answers
    200; stopped with Ctrl-C at the end."""
    port = env["CONCORD_WEB_PORT"]
    with open(home / "up.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "concord.cli", "up"], env=env, cwd=home, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def up_token(home: Path, env: dict[str, str], name: str, role: str) -> str:
    """A token made with the CLI of the `concord up` that runs from `home`."""
    made = subprocess.run(
        [sys.executable, "-m", "concord.cli", "token", "create", name, "--role", role],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def known(base: str, token: str) -> bool:
    """Whether the web server knows the token (a producer may not read situations: 403)."""
    req = urllib.request.Request(
        f"{base}/api/situations", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code != 401
    except OSError:
        return False


def post_arrays(base: str, token: str, signals: list[dict[str, Any]], size: int = 100) -> None:
    """`POST /api/signals` the signals in arrays of `size`, one after the other (each 202)."""
    for i in range(0, len(signals), size):
        req = urllib.request.Request(
            f"{base}/api/signals",
            data=json.dumps(signals[i : i + size]).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 202


def extra_settings() -> dict[str, str]:
    """Settings from `BENCH_SETTINGS=name=value,...` (without the `CONCORD_` prefix)."""
    pairs = (x.partition("=") for x in os.environ.get("BENCH_SETTINGS", "").split(",") if x)
    return {name: value for name, _, value in pairs}


def wait(probe: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"not within {timeout} s")


class Stack:
    """Broker, SMTP, Slack API and one worker; `with Stack(...) as s:`."""

    def __init__(self, areas: int = 50, workers: int = 1, **settings: str) -> None:
        self.areas = areas
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports = [free_port() for _ in range(workers)]
        self.settings = settings
        self.outbox = Outbox(limit=1_000_000)
        self.root = Path(tempfile.mkdtemp(prefix="concord-bench-"))
        self.broker = EmbeddedBroker(log_file=self.root / "broker.log")
        self.smtp_port = free_port()
        self.smtp: SmtpCapture | None = None
        self.slack = SlackApiServer(self.outbox)
        self.port = self.ports[0]
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        self._day = 0
        self.app_id = f"bench-{uuid.uuid4().hex[:6]}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, index: int = 0) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
        env.update(
            CONCORD_BROKER=self.broker.url,
            CONCORD_APP_ID=self.app_id,
            CONCORD_STORE="memory://",
            CONCORD_SESSION_TIMEOUT="6",
            CONCORD_WEB_PORT=str(self.ports[index]),
            CONCORD_DATA_DIR=str(self.root / f"data{index}"),
            CONCORD_PLAYBOOKS=str(self.root / "playbooks"),
            CONCORD_DIRECTORY=str(self.root / "directory.yml"),
            CONCORD_SMTP_HOST="127.0.0.1",
            CONCORD_SMTP_PORT=str(self.smtp_port),
            CONCORD_SLACK_TOKEN=self.slack.token,
            CONCORD_SLACK_API_URL=self.slack.url,
            CONCORD_LOG_LEVEL="warning",
            CONCORD_MAX_BATCH="500",
        )
        env.update({f"CONCORD_{k.upper()}": v for k, v in self.settings.items()})
        return env

    def __enter__(self) -> Stack:
        (self.root / "playbooks").mkdir()
        (self.root / "playbooks" / "bench.yml").write_text(SLACK_PLAYBOOK)
        (self.root / "playbooks" / "pair.yml").write_text(PAIR_PLAYBOOK)
        (self.root / "directory.yml").write_text(directory_yaml(self.areas))
        self.broker.start()
        self.smtp_up()
        self.slack.start()
        keys = self.root / "keys"
        for i in range(self.workers):
            log = open(self.root / f"worker{i}.log", "wb")
            env = self.env(i)
            if i:  # one installation: every worker shares the first one's keys
                env["CONCORD_DATA_KEY"] = (keys / "data_key").read_text().strip()
                env["CONCORD_SECRET_KEY"] = (keys / "secret_key").read_text().strip()
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "concord.cli", "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
            if i == 0:
                self.proc = self.procs[0]
                wait(lambda: (self.root / "data0" / "keys" / "secret_key").exists(), timeout=60)
                shutil.copytree(self.root / "data0" / "keys", keys)
        for port in self.ports:
            wait(functools.partial(self.healthy, port), timeout=120, interval=0.2)
        made = subprocess.run(
            [sys.executable, "-m", "concord.cli", "token", "create", "bench", "--role", "producer"],
            env={**self.env(), "CONCORD_DATA_DIR": str(self.root / "data0")},
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=True,
        )
        self.token = made.stdout.decode().strip()
        wait(lambda: self.request("GET", "/api/tasks")[0] == 403, timeout=30)  # token in force
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.smtp_down()
        self.slack.stop()
        self.broker.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def smtp_up(self) -> None:
        if self.smtp is None:
            self.smtp = SmtpCapture(self.outbox, port=self.smtp_port).start()

    def smtp_down(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None

    def healthy(self, port: int | None = None) -> bool:
        for i, proc in enumerate(self.procs):
            if proc.poll() is not None:
                raise RuntimeError((self.root / f"worker{i}.log").read_text()[-3000:])
        try:
            url = f"http://127.0.0.1:{port or self.port}/healthz"
            return bool(urllib.request.urlopen(url, timeout=5).status == 200)
        except OSError:
            return False  # not listening yet, or not ready (503)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def signal(self, area: int, **kw: Any) -> dict[str, Any]:
        """An incident in area `a{area}`, days apart from every other one."""
        self._day += 1
        at = datetime.now(UTC) - timedelta(days=3 * self._day)
        signal = {
            "id": f"b-{uuid.uuid4().hex[:12]}",
            "kind": "incident",
            "category": "hate_crime",
            "severity": 3,
            "occurred_at": at.isoformat(),
            "area": f"a{area % self.areas}",
            "source": {"type": "ngo", "name": "Bench"},
            "summary": "Bench signal.",
        }
        signal.update(kw)
        return signal

    def task(self, signal: dict[str, Any], playbook: str = "bench", key: str = "t") -> str:
        return task_id(situation_id(str(signal["id"]), str(signal["area"])), playbook, key)

    def slack_keys(self) -> dict[str, float]:
        """Task id -> when its first chat.postMessage arrived (epoch s)."""
        out: dict[str, float] = {}
        for call in self.outbox.slack():
            key = str(call.payload.get("metadata", {}).get("event_payload", {}).get("key", ""))
            out.setdefault(key.split(".")[0], call.at)
        return out

    def slack_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for call in self.outbox.slack():
            key = str(call.payload.get("metadata", {}).get("event_payload", {}).get("key", ""))
            out[key.split(".")[0]] = out.get(key.split(".")[0], 0) + 1
        return out

    def mail_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for mail in self.outbox.emails():
            key = mail.headers.get("Message-ID", "").strip("<>").split(".")[0]
            out[key] = out.get(key, 0) + 1
        return out

    def delivery_states(self) -> dict[str, dict[str, Any]]:
        """Every message's latest delivery record (concord.delivery-state), by key."""
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(
            "concord.delivery-state",
            bootstrap_servers=self.broker.bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=1500,
        )
        try:
            return {r.key.decode(): json.loads(r.value) for r in consumer if r.value}
        finally:
            consumer.close()

    def peak_mb(self) -> float:
        """Peak resident memory of the workers, together."""
        return sum(rss_peak_mb(p.pid) for p in self.procs)


def line(**fields: Any) -> None:
    """One JSON line on stdout."""
    print(json.dumps(fields), flush=True)
