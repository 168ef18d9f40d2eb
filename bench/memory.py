"""The worker's memory with many open situations and tasks.

N signals (default 100,000) in 1,000 areas, 25 hours apart within an area (so each is a
situation of its own, with one Slack task; pacing off), are posted in arrays of 500 to a
bare `concord worker`, at most 2,000 ahead of what was delivered; once every task's
message is delivered (its state on `concord.delivery-state`: nothing is left in flight,
until 2026-12-06 the bench read while messages were still queued) and the read model
holds them, the worker's resident memory (VmRSS) and its peak (VmHWM) are read.
Everything stays open: nothing closes a situation or a task. Prints one JSON line, and
one per 10% on the way.
Usage: [BENCH_STORE=rocksdb://] [BENCH_CENSUS=1] python bench/memory.py [N]
(`BENCH_STORE`: the worker's table store, `memory://` unless given; production's is
`rocksdb://`, which keeps the tables' values on disk rather than in the process.
`BENCH_CENSUS=1`: once the figure is read, gdb runs `bench/census.py` inside the worker
and one more line says where its memory is: each part of the read model, the scans'
digests, malloc's heap; needs gdb and ptrace, and adds to the worker's memory after.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kafka import KafkaConsumer
from pipeline import is_delivered
from stack import Stack, line, rss_peak_mb


def rss_mb(pid: int) -> float:
    """The process's resident memory now, in MiB."""
    return rss_peak_mb(pid, "VmRSS")


AREAS = 1_000


def census(pid: int) -> dict[str, object]:
    """Run `bench/census.py` inside the worker (gdb, with the GIL held); its figures."""
    out = Path(tempfile.mkdtemp()) / "census.json"
    script = Path(__file__).resolve().parent / "census.py"
    code = f"CONCORD_CENSUS_OUT = {str(out)!r}; exec(open({str(script)!r}).read())"
    steps = [
        "call (int)PyGILState_Ensure()",
        f"call (int)PyRun_SimpleString({json.dumps(code)})",
        "call (void)PyGILState_Release($1)",
    ]
    args = ["gdb", "-p", str(pid), "-batch", *(x for step in steps for x in ("-ex", step))]
    subprocess.run(args, capture_output=True, timeout=600, check=False)
    found: dict[str, object] = json.loads(out.read_text()) if out.exists() else {}
    return found or {"error": "gdb could not run the census (ptrace?)"}


def signal(i: int) -> dict[str, object]:
    """The i-th signal: area `a{i % AREAS}`, 25 h after the previous one of its area."""
    at = datetime.now(UTC) - timedelta(hours=25 * (i // AREAS) + 1)
    return {
        "id": f"m-{i}",
        "kind": "incident",
        "category": "hate_crime",
        "severity": 3,
        "occurred_at": at.isoformat(),
        "area": f"a{i % AREAS}",
        "source": {"type": "ngo", "name": "Bench"},
        "summary": "Bench signal.",
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    store = os.environ.get("BENCH_STORE", "memory://")
    pacing_off = {"slack_channel_interval_seconds": "0", "slack_workspace_rate": "0"}
    with Stack(AREAS, 1, store=store, **pacing_off) as s:
        assert s.proc is not None
        consumer = KafkaConsumer(
            "concord.delivery-state",
            bootstrap_servers=s.broker.bootstrap,
            auto_offset_reset="earliest",
        )
        headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "application/json"}
        started, posted, step = time.monotonic(), 0, max(1, n // 10)
        done: set[bytes] = set()
        seen = 0
        while seen < n:
            if posted < n and posted - seen < 2_000:  # keep the worker busy, not flooded
                batch = [signal(i) for i in range(posted, min(n, posted + 500))]
                req = urllib.request.Request(
                    f"{s.base}/api/signals", data=json.dumps(batch).encode(), headers=headers
                )
                with urllib.request.urlopen(req, timeout=120) as r:
                    assert r.status == 202
                posted += len(batch)
            before = seen
            for records in consumer.poll(timeout_ms=200).values():
                done.update(r.key for r in records if r.key and is_delivered(r.value))
            seen = len(done)
            if seen // step > before // step:
                line(
                    bench="memory",
                    metric="rss_mb_on_the_way",
                    store=store,
                    open_tasks=seen,
                    value=round(rss_mb(s.proc.pid), 1),
                    seconds=round(time.monotonic() - started),
                )
        consumer.close()
        time.sleep(5)  # the read model catches up
        line(
            bench="memory",
            metric="rss_mb",
            value=round(rss_mb(s.proc.pid), 1),
            unit="MiB",
            store=store,
            open_situations=n,
            open_tasks=n,
            peak_mb=round(rss_peak_mb(s.proc.pid), 1),
            seconds=round(time.monotonic() - started),
            target_mb=300,
        )
        if os.environ.get("BENCH_CENSUS"):
            line(bench="memory", metric="census", open_tasks=n, **census(s.proc.pid))


if __name__ == "__main__":
    main()
