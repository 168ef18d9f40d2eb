"""Many reports of one incident, through `concord up`: how fast they join one situation
and its panel review, and what the panel and Kafka see of them.

The city is the repository's (directory.yml, playbooks/): N reports of one racist
assault in one area, a few seconds apart, posted in arrays of 100. The assault's playbook
needs the panel, so the situation is under review while the reports join it. Timed until
the situation holds all N (`GET /api/situations`: `situation_s`, and the signals/s), and
until its review has taken them in (`GET /api/reviews`: `review_s`). Then `concord up`
is stopped and its archive read: the records and bytes each topic took per report, the
largest record, and the panel's notices. Prints JSON lines.
Usage: [BENCH_SETTINGS=name=value,...] python bench/burst.py [N ...]
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import (
    concord_up,
    cpu,
    free_port,
    known,
    line,
    post_arrays,
    up_env,
    up_processes,
    up_token,
    wait,
)

ROOT = Path(__file__).resolve().parent.parent


def reports(n: int) -> list[dict[str, Any]]:
    """N reports of one assault in the south, each its own id, 5 s apart."""
    first = json.loads((ROOT / "examples" / "signals.jsonl").read_text().splitlines()[0])
    start = datetime.now(UTC) - timedelta(hours=12)
    at = [(start + timedelta(seconds=5 * i)).isoformat() for i in range(n)]
    return [{**first, "id": str(uuid.uuid4()), "occurred_at": when} for when in at]


def get(base: str, path: str, token: str) -> Any:
    req = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def joined(base: str, token: str, n: int) -> bool:
    """Whether one situation holds all n reports."""
    try:
        return any(len(s["signals"]) >= n for s in get(base, "/api/situations", token))
    except OSError:
        return False


def reviewed(base: str, token: str, n: int) -> bool:
    """Whether the panel's review of the situation has taken in all n reports (the
    changes of its versions after the first name the n - 1 that joined)."""
    try:
        reviews = get(base, "/api/reviews", token)
    except OSError:
        return False
    return any(sum(len(v["changes"]) for v in r["versions"][1:]) >= n - 1 for r in reviews)


def archived(path: Path) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Records, bytes and largest record per topic in the archive; the panel's notices."""
    records: Counter[str] = Counter()
    size: Counter[str] = Counter()
    largest: Counter[str] = Counter()
    notices = 0
    db = sqlite3.connect(path)
    try:
        for topic, key, value in db.execute("select topic, key, value from records"):
            length = len(value or b"")
            records[topic] += 1
            size[topic] += length
            largest[topic] = max(largest[topic], length)
            if topic == "concord.outgoing" and bytes(key or b"").startswith(b"review."):
                notices += 1
    finally:
        db.close()
    return records, size, largest, notices


def run(n: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="concord-burst-bench-"))
    port = free_port()
    env = up_env(
        home,
        port,
        directory=str(ROOT / "directory.yml"),
        playbooks=str(ROOT / "playbooks"),
        slack_channel_interval_seconds="0",
        slack_workspace_rate="0",
    )
    with concord_up(home, env) as proc:
        base = f"http://127.0.0.1:{port}"
        producer = up_token(home, env, "feed", "producer")
        coordinator = up_token(home, env, "ops", "coordinator")
        wait(lambda: known(base, coordinator), timeout=30)
        sent = reports(n)
        pids = up_processes(proc.pid)
        c0, t0 = {name: cpu(pid) for name, pid in pids.items()}, time.monotonic()
        post_arrays(base, producer, sent)
        wait(lambda: joined(base, coordinator, n), timeout=900, interval=0.5)
        took = time.monotonic() - t0
        wait(lambda: reviewed(base, coordinator, n), timeout=1800, interval=0.5)
        panel = time.monotonic() - t0
        spent = sum(cpu(pid) - c0[name] for name, pid in pids.items())
        proc.send_signal(signal.SIGINT)  # the archiver copies what is left, then stops
        proc.wait(timeout=120)
    records, size, largest, notices = archived(home / "data" / "archive.sqlite3")
    line(
        bench="burst",
        metric="signals_per_s",
        value=round(n / took, 1),
        unit="1/s",
        n=n,
        situation_s=round(took, 1),
        review_s=round(panel, 1),
        cpu_ms_per_item=round(1000 * spent / n, 2),
        records_per_signal=round(sum(records.values()) / n, 2),
        kb_per_signal=round(sum(size.values()) / n / 1000, 1),
        panel_notices=notices,
    )
    for topic, count in records.most_common():
        line(
            bench="burst",
            metric="records_per_hop",
            topic=topic,
            n=n,
            value=round(count / n, 2),
            kb_per_signal=round(size[topic] / n / 1000, 1),
            largest_kb=round(largest[topic] / 1000, 1),
        )


def main() -> None:
    for n in [int(x) for x in sys.argv[1:]] or [200, 400, 800]:
        run(n)


if __name__ == "__main__":
    main()
