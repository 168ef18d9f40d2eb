"""Throughput through `concord up`, the mode a new user starts first: the embedded broker,
its archive, the worker, local SMTP and Slack, in one command.

N signals are posted in arrays of 100 to `POST /api/signals`, each in its own area with
one Slack task (pacing off), and timed until every task's message is delivered (its
state on `concord.delivery-state`). Run with the archive on (the default) and off
(`CONCORD_ARCHIVE=false`), to see what keeping a durable copy costs the worker;
`BENCH_ARCHIVE=on` (or `off`) runs one mode only. Prints one JSON line per mode:
signals/s, and the CPU per signal of `concord up`, the broker and the archiver.

`BENCH_CHANNEL=teams|matrix|mattermost|rocketchat` sends the tasks on that channel (to
`concord up`'s stand-in) instead of Slack; `BENCH_SUBSCRIBERS=K` adds K webhook
subscribers (every event: the publish stage runs, and each signal also makes a
`situation.opened` and a `task.created` event per subscriber, all waited for).
With `CONCORD_BENCH_PYSPY` naming py-spy, the archiver is profiled, or `concord up`'s own
process with `BENCH_PROFILE=up`.
Usage: [BENCH_SETTINGS=name=value,...] python bench/up.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import delivered, profile, top_frames
from stack import (
    AGENCY_PLAYBOOK,
    SLACK_PLAYBOOK,
    Stack,
    concord_up,
    cpu,
    directory_yaml,
    free_port,
    known,
    line,
    post_arrays,
    up_env,
    up_processes,
    up_token,
    wait,
)


def run(n: int, archive: bool) -> None:
    home = Path(tempfile.mkdtemp(prefix="concord-up-bench-"))
    (home / "playbooks").mkdir()
    channel = os.environ.get("BENCH_CHANNEL", "slack")
    playbook = SLACK_PLAYBOOK if channel == "slack" else AGENCY_PLAYBOOK
    (home / "playbooks" / "bench.yml").write_text(playbook)
    subscribers = int(os.environ.get("BENCH_SUBSCRIBERS", "0"))
    (home / "directory.yml").write_text(directory_yaml(n, channel, subscribers))
    port = free_port()
    env = up_env(
        home,
        port,
        playbooks=str(home / "playbooks"),
        directory=str(home / "directory.yml"),
        slack_channel_interval_seconds="0",
        slack_workspace_rate="0",
        max_batch="500",
        archive="true" if archive else "false",
    )
    with concord_up(home, env) as proc:
        base = f"http://127.0.0.1:{port}"
        token = up_token(home, env, "bench", "producer")
        bootstrap = (home / "data" / "broker").read_text().strip().split("://")[-1]
        maker = Stack(areas=n)  # only its signal maker: nothing is started
        signals = [maker.signal(i) for i in range(n)]
        wait(lambda: known(base, token), timeout=30)  # the token reached the read model
        spy = None
        profiled = os.environ.get("BENCH_PROFILE", "archiver")
        if profiled == "up":  # `concord up`'s own process: worker, web server, read model
            spy = profile(proc.pid)
        elif archive and os.environ.get("CONCORD_BENCH_PYSPY"):  # the archiver's own frames
            archiver = up_processes(proc.pid)["archiver"]
            spy = profile(archiver)
        pids = up_processes(proc.pid)
        c0, t0 = {name: cpu(pid) for name, pid in pids.items()}, time.monotonic()
        post_arrays(base, token, signals)
        # Every task's message, and with subscribers the events each gets for a signal:
        # its situation opened and its task created.
        delivered(bootstrap, n * (1 + 2 * subscribers))
        took = time.monotonic() - t0
        spent = {name: cpu(pid) - c0[name] for name, pid in pids.items()}
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
            cpu_ms_per_item=round(1000 * sum(spent.values()) / n, 2),
            cpu_ms_per_item_by_process={k: round(1000 * v / n, 2) for k, v in spent.items()},
        )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    modes = os.environ.get("BENCH_ARCHIVE", "on,off").split(",")
    for mode in modes:
        run(n, archive=mode == "on")


if __name__ == "__main__":
    main()
