"""Throughput through `concord up`, the mode a new user starts first: the embedded broker,
its archive, the worker, local SMTP and Slack, in one command.

N signals are posted in arrays of 100 to `POST /api/signals`, each in its own area with
one Slack task (pacing off), and timed until every task's message is delivered (its
state on `concord.delivery-state`). Run with the archive on (the default) and off
(`CONCORD_ARCHIVE=false`), to see what keeping a durable copy costs the worker;
`BENCH_ARCHIVE=on` (or `off`) runs one mode only. Prints one JSON line per mode:
signals/s, the CPU seconds of `concord up` and its children per signal.

`BENCH_CHANNEL=teams|matrix|mattermost|rocketchat` sends the tasks on that channel (to
`concord up`'s stand-in) instead of Slack; `BENCH_SUBSCRIBERS=K` adds K webhook
subscribers (every event: the publish stage runs, and each signal also makes a
`situation.opened` and a `task.created` event per subscriber, all waited for).
With `CONCORD_BENCH_PYSPY` naming py-spy, the archiver is profiled, or `concord up`'s own
process with `BENCH_PROFILE=up`.
Usage: [BENCH_SETTINGS=name=value,...] python bench/up.py [N]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import delivered, profile, top_frames
from stack import (
    AGENCY_PLAYBOOK,
    SLACK_PLAYBOOK,
    Stack,
    directory_yaml,
    extra_settings,
    free_port,
    line,
)


def cpu_tree(pid: int) -> float:
    """CPU seconds of a process and its children (the archiver runs in one)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().split(")")[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run(n: int, archive: bool) -> None:
    home = Path(tempfile.mkdtemp(prefix="concord-up-bench-"))
    (home / "playbooks").mkdir()
    channel = os.environ.get("BENCH_CHANNEL", "slack")
    playbook = SLACK_PLAYBOOK if channel == "slack" else AGENCY_PLAYBOOK
    (home / "playbooks" / "bench.yml").write_text(playbook)
    subscribers = int(os.environ.get("BENCH_SUBSCRIBERS", "0"))
    (home / "directory.yml").write_text(directory_yaml(n, channel, subscribers))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update(
        CONCORD_WEB_PORT=str(port),
        CONCORD_DATA_DIR=str(home / "data"),
        CONCORD_PLAYBOOKS=str(home / "playbooks"),
        CONCORD_DIRECTORY=str(home / "directory.yml"),
        CONCORD_SLACK_CHANNEL_INTERVAL_SECONDS="0",
        CONCORD_SLACK_WORKSPACE_RATE="0",
        CONCORD_MAX_BATCH="500",
        CONCORD_ARCHIVE="true" if archive else "false",
    )
    env.update({f"CONCORD_{k.upper()}": v for k, v in extra_settings().items()})
    concord = [sys.executable, "-m", "concord.cli"]
    with open(home / "up.log", "wb") as log:
        proc = subprocess.Popen([*concord, "up"], env=env, cwd=home, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        token = subprocess.run(
            [*concord, "token", "create", "bench", "--role", "producer"],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        bootstrap = (home / "data" / "broker").read_text().strip().split("://")[-1]
        maker = Stack(areas=n)  # only its signal maker: nothing is started
        signals = [maker.signal(i) for i in range(n)]
        time.sleep(3)  # the token reaches the read model
        spy = None
        profiled = os.environ.get("BENCH_PROFILE", "archiver")
        if profiled == "up":  # `concord up`'s own process: worker, web server, read model
            spy = profile(proc.pid)
        elif archive and os.environ.get("CONCORD_BENCH_PYSPY"):  # the archiver's own frames
            kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            archiver = next(
                int(k) for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()
            )
            spy = profile(archiver)
        c0, t0 = cpu_tree(proc.pid), time.monotonic()
        for i in range(0, n, 100):
            req = urllib.request.Request(
                f"{base}/api/signals",
                data=json.dumps(signals[i : i + 100]).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 202
        # Every task's message, and with subscribers the events each gets for a signal:
        # its situation opened and its task created.
        delivered(bootstrap, n * (1 + 2 * subscribers))
        took = time.monotonic() - t0
        if spy is not None:
            top_frames(spy, "up" if profiled == "up" else "up_archiver", most=30)
        line(
            bench="up",
            metric="signals_per_s",
            value=round(n / took, 1),
            unit="1/s",
            n=n,
            archive=archive,
            channel=channel,
            subscribers=subscribers,
            cpu_ms_per_item=round(1000 * (cpu_tree(proc.pid) - c0) / n, 2),
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    modes = os.environ.get("BENCH_ARCHIVE", "on,off").split(",")
    for mode in modes:
        run(n, archive=mode == "on")


if __name__ == "__main__":
    main()
