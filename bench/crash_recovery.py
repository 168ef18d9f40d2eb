"""Crash recovery under load: SIGKILL a worker mid-flow, measure loss, stalls, duplicates.

Two workers share an embedded Tansu broker; 40 signals (80 tasks) are produced at once;
worker 0 is SIGKILLed when a third of the tasks are delivered; worker 1 takes over.
Prints one JSON line per run and a summary.
Usage: [BENCH_STORE=rocksdb://] python bench/crash_recovery.py [RUNS] [STARTS]
(`BENCH_STORE`: the workers' table store, `memory://` unless given; production's is
`rocksdb://`, each worker on its own data directory.)

`rebalanced_s`
`rebalanced_s`: from the kill to the survivor's "Worker ready" (it owns and has
recovered the dead worker's partitions); `takeover_s`: to its first delivery after that;
`all_delivered_s`: to the last task. A run that does not deliver everything within 60 s
shows as `stalled`.

Before the crash runs, STARTS start-up runs (default 3): 40 signals wait on
`concord.signals.in` before a worker (tracing its partitions) starts.
`first_commit_s`: per partition of `concord.signals.in`, from the worker's assignment to
its first commit of that partition (the records were there all along: the target is
10 s); `all_delivered_s`: from the start of the worker to the last task.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaProducer

from concord.embedded.broker import EmbeddedBroker
from concord.embedded.net import free_port
from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from tests.conftest import (
    Worker,
    make_signal,
    start_worker,
    stop_worker,
    wait_healthy,
    wait_until,
    worker_env,
)
from tests.integration.helpers import task_of

STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def keys(outbox: Outbox) -> tuple[list[str], list[str]]:
    mails = [m.headers.get("Message-ID", "")[1:].split(".")[0] for m in outbox.emails()]
    slack = [
        str(c.payload.get("metadata", {}).get("event_payload", {}).get("key", "")).split(".")[0]
        for c in outbox.slack()
    ]
    return mails, slack


def signals_and_tasks(n: int) -> tuple[list[dict[str, object]], set[str]]:
    """n signals, and the ids of the tasks they make."""
    # Even signals: vandalism of a place of worship (two Slack tasks); odd ones:
    # harassment (one email task to victim support), so both carriers are measured.
    # Three days apart, so that each opens a situation of its own, and all in the recent
    # past: a signal dated in the future is refused by intake (the suite's `make_signal`
    # counts days forward from 2020, which runs past today after some 800 signals).
    now = datetime.now(UTC)
    signals = [
        make_signal(
            category="vandalism" if i % 2 == 0 else "harassment",
            bias=["antisemitic"],
            severity=2,
            area=("north", "centre", "south")[i % 3],
            occurred_at=(now - timedelta(days=3 * (n - i), hours=1)).isoformat(),
        )
        for i in range(n)
    ]
    fired = {
        "vandalism": ("place-of-worship-vandalism", ("police-report", "community-contact")),
        "harassment": ("victim-support-referral", ("refer",)),
    }
    expected = {
        task_of(s, fired[str(s["category"])][0], k)
        for s in signals
        for k in fired[str(s["category"])][1]
    }
    return signals, expected


def produce(bootstrap: str, signals: list[dict[str, object]]) -> None:
    """Every signal on `concord.signals.in`, each send confirmed by the broker."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    sent = [
        producer.send("concord.signals.in", key=str(s["id"]).encode(), value=json.dumps(s).encode())
        for s in signals
    ]
    producer.flush()
    for future in sent:
        future.get(timeout=30)  # raises if the broker did not take it
    producer.close()


def first_commits(log: str, topic: str) -> dict[int, float]:
    """Per partition of `topic`: seconds from the last assignment before its first commit
    to that commit (the worker's log, traced)."""
    assigned: float | None = None
    found: dict[int, float] = {}
    for line in log.splitlines():
        stamp = STAMP.match(line)
        if stamp is None:
            continue
        at = time.mktime(time.strptime(stamp.group(1)[:19], "%Y-%m-%d %H:%M:%S"))
        at += int(stamp.group(1)[20:]) / 1000
        if "Setting newly assigned partitions" in line:
            assigned = at
        elif "commit done:" in line and assigned is not None:
            for part in re.findall(re.escape(topic) + r":(\d+)@", line):
                found.setdefault(int(part), round(at - assigned, 2))
    return found


def start_once(
    n: int, smtp: SmtpCapture, slack: SlackApiServer, outbox: Outbox
) -> dict[str, object]:
    """Records waiting before the worker starts: how soon each partition moves."""
    root = Path(tempfile.mkdtemp(prefix="concord-start-"))
    with EmbeddedBroker() as broker:
        env = worker_env(broker.url, smtp, slack, root, free_port())
        env["CONCORD_TRACE"] = "1"
        env["CONCORD_STORE"] = os.environ.get("BENCH_STORE", env["CONCORD_STORE"])
        signals, expected = signals_and_tasks(n)
        produce(broker.bootstrap, signals)
        t0 = time.monotonic()
        log = root / "w.log"
        url = f"http://127.0.0.1:{env['CONCORD_WEB_PORT']}"
        w = Worker(start_worker(env, log), env, url, log, root)
        try:
            wait_until(lambda: expected <= set(delivered_keys(outbox)), timeout=120, interval=0.1)
            stalled = False
        except TimeoutError:
            stalled = True
        all_s = time.monotonic() - t0
        stop_worker(w.proc)
        firsts = first_commits(log.read_text(), "concord.signals.in")
    if not stalled:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "phase": "start",
        "logs": str(root) if stalled else None,
        "stalled": stalled,
        "partitions": len(firsts),
        "first_commit_s": [firsts[p] for p in sorted(firsts)],
        "first_commit_max_s": max(firsts.values()) if firsts else None,
        "all_delivered_s": round(all_s, 1),
    }


def delivered_keys(outbox: Outbox) -> list[str]:
    mails, posts = keys(outbox)
    return mails + posts


def run_once(n: int, smtp: SmtpCapture, slack: SlackApiServer, outbox: Outbox) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="concord-crash-"))
    with EmbeddedBroker() as broker:
        base = worker_env(broker.url, smtp, slack, root, free_port())
        base["CONCORD_TRACE"] = "1"  # a stalled run keeps its workers' traced logs
        base["CONCORD_STORE"] = os.environ.get("BENCH_STORE", base["CONCORD_STORE"])
        workers = []
        for i in range(2):
            data = root / f"w{i}"
            if i == 1:
                shutil.copytree(root / "w0" / "keys", data / "keys")  # a cluster shares keys
            port = free_port()
            env = {**base, "CONCORD_WEB_PORT": str(port), "CONCORD_DATA_DIR": str(data)}
            data.mkdir(exist_ok=True)
            w = Worker(
                start_worker(env, data / "w.log"),
                env,
                f"http://127.0.0.1:{port}",
                data / "w.log",
                data,
            )
            wait_healthy(w)
            workers.append(w)
        signals, expected = signals_and_tasks(n)

        def delivered() -> collections.Counter[str]:
            mails, posts = keys(outbox)
            return collections.Counter(k for k in mails + posts if k in expected)

        produce(broker.bootstrap, signals)
        try:
            wait_until(lambda: len(delivered()) >= len(expected) // 3, timeout=60, interval=0.02)
        except TimeoutError:  # stalled before the kill: a run like any other, logs kept
            for w in workers:
                stop_worker(w.proc)
            return {
                "phase": "crash",
                "logs": str(root),
                "tasks": len(expected),
                "delivered_at_kill": None,
                "delivered": len(delivered()),
                "stalled": True,
                "rebalanced_s": None,
                "takeover_s": None,
                "all_delivered_s": None,
                "slack_duplicates": 0,
                "email_resends": 0,
            }
        readies = workers[1].log.read_text().count("Worker ready")
        workers[0].proc.send_signal(signal.SIGKILL)
        workers[0].proc.wait()
        at_kill, t0 = len(delivered()), time.monotonic()
        # The takeover: the survivor has rebalanced and recovered the dead worker's
        # partitions ("Worker ready" again), then delivers its first message after that.
        ready_s = first_s = None
        try:
            wait_until(
                lambda: workers[1].log.read_text().count("Worker ready") > readies,
                timeout=60,
                interval=0.05,
            )
            ready_s = time.monotonic() - t0
            at_ready = len(delivered())
            if at_ready < len(expected):
                wait_until(lambda: len(delivered()) > at_ready, timeout=60, interval=0.02)
            first_s = time.monotonic() - t0
            wait_until(lambda: len(delivered()) == len(expected), timeout=60, interval=0.1)
            stalled = False
        except TimeoutError:
            stalled = True
        counts = delivered()
        mails, posts = keys(outbox)
        stop_worker(workers[1].proc)
    if not stalled:
        shutil.rmtree(root, ignore_errors=True)  # a stalled run keeps its workers' logs
    return {
        "phase": "crash",
        "logs": str(root) if stalled else None,
        "tasks": len(expected),
        "delivered_at_kill": at_kill,
        "delivered": len(counts),
        "stalled": stalled,
        "rebalanced_s": round(ready_s, 1) if ready_s is not None else None,
        "takeover_s": round(first_s, 1) if first_s is not None else None,
        "all_delivered_s": round(time.monotonic() - t0, 1),
        "slack_duplicates": sum(1 for k in set(posts) if k in expected and posts.count(k) > 1),
        "email_resends": sum(1 for k in set(mails) if k in expected and mails.count(k) > 1),
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    starts = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    outbox = Outbox(limit=100_000)
    smtp, slack = SmtpCapture(outbox).start(), SlackApiServer(outbox).start()
    results = []
    firsts: list[float] = []
    try:
        for i in range(starts):
            r = start_once(40, smtp, slack, outbox)
            firsts += [float(x) for x in r["first_commit_s"]]  # type: ignore[attr-defined]
            print(json.dumps({"bench": "crash_recovery", "run": i, **r}), flush=True)
        if firsts:
            print(
                json.dumps(
                    {
                        "bench": "crash_recovery",
                        "metric": "first_commit_max_s",
                        "value": max(firsts),
                        "unit": "s",
                        "target": 10,
                        "partitions": len(firsts),
                    }
                ),
                flush=True,
            )
        for i in range(runs):
            r = run_once(40, smtp, slack, outbox)
            results.append(r)
            print(json.dumps({"bench": "crash_recovery", "run": i, **r}), flush=True)
    finally:
        smtp.stop()
        slack.stop()
    stalled = sum(1 for r in results if r["stalled"])
    print(
        json.dumps(
            {
                "bench": "crash_recovery",
                "metric": "stalled_runs",
                "value": stalled,
                "unit": "runs",
                "runs": runs,
            }
        )
    )
    print(
        json.dumps(
            {
                "bench": "crash_recovery",
                "metric": "slack_duplicates",
                "value": sum(int(str(r["slack_duplicates"])) for r in results),
                "unit": "messages",
            }
        )
    )


if __name__ == "__main__":
    main()
