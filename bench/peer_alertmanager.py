"""Concord against Prometheus Alertmanager on the same work, in one run.

The work: N distinct items posted over HTTP in arrays of 100, each its own group, each
delivered once to a chat-like endpoint on this machine:

- Alertmanager 0.25 (Debian's `prometheus-alertmanager`, installed by
  `scripts/install-alertmanager`): N alerts with a distinct `id` label, `group_by: [id]`,
  `group_wait: 0s`, to a local webhook; measured until the webhook has all N.
- Concord: N signals, each in its own area (so its own situation), one Slack task each
  (no review), pacing off, to the local Slack Web API server; measured from the first
  POST until `chat.postMessage` arrived for all N.

Prints one JSON line per system (items/s, wall time, peak memory) and the ratio.
Usage: python bench/peer_alertmanager.py [N]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack, free_port, line, rss_peak_mb, wait

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


class Hook:
    """A webhook that notes when each alert id first arrives."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time()
                with hook.lock:
                    for alert in body.get("alerts", []):
                        hook.seen.setdefault(alert["labels"]["id"], now)
                self.send_response(200)
                self.end_headers()

        class Server(ThreadingHTTPServer):
            # Alertmanager opens a connection per notification, hundreds at once: a
            # backlog of 5 drops SYNs, retried a second later (the receiver, not the sender).
            request_queue_size = 4096
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def alertmanager(n: int) -> dict[str, float]:
    hook = Hook()
    root = Path(tempfile.mkdtemp(prefix="bench-am-"))
    port = free_port()
    (root / "am.yml").write_text(
        f"""route:
  receiver: hook
  group_by: [id]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 24h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook.port}/hook
        send_resolved: false
"""
    )
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={root / 'am.yml'}",
            f"--storage.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait(lambda: _ready(f"http://127.0.0.1:{port}/-/ready"), timeout=30, interval=0.1)
        now = datetime.now(UTC).isoformat()
        batches = [
            [
                {"labels": {"alertname": "bench", "id": f"a{i}"}, "startsAt": now}
                for i in range(start, min(n, start + 100))
            ]
            for start in range(0, n, 100)
        ]
        t0 = time.time()
        for batch in batches:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v2/alerts",
                data=json.dumps(batch).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(req, timeout=30).read()
        wait(lambda: len(hook.seen) >= n, timeout=300, interval=0.01)
        took = max(hook.seen.values()) - t0
        return {"per_s": n / took, "seconds": took, "peak_mb": rss_peak_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(10)
        hook.server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


def _ready(url: str) -> bool:
    try:
        return bool(urllib.request.urlopen(url, timeout=1).status == 200)
    except OSError:
        return False


def concord(n: int) -> dict[str, float]:
    settings = {
        "slack_channel_interval_seconds": "0",
        "slack_workspace_rate": "0",
        "delivery_concurrency": "16",
    }
    with Stack(n, 1, **settings) as s:
        signals = [s.signal(i) for i in range(n)]
        tasks = {s.task(x) for x in signals}
        t0 = time.time()
        for start in range(0, n, 100):
            status, body = s.request("POST", "/api/signals", signals[start : start + 100])
            assert status == 202, body
        seen = wait(
            lambda: (k := s.slack_keys()) and tasks <= set(k) and k, timeout=600, interval=0.05
        )
        took = max(seen[t] for t in tasks) - t0
        return {"per_s": n / took, "seconds": took, "peak_mb": s.peak_mb()}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    if not Path(ALERTMANAGER).exists():
        line(
            bench="peer_alertmanager", error=f"{ALERTMANAGER} missing: scripts/install-alertmanager"
        )
        sys.exit(1)
    am = alertmanager(n)
    line(
        bench="peer_alertmanager",
        system="alertmanager",
        metric="items_per_s",
        value=round(am["per_s"], 1),
        unit="1/s",
        n=n,
        seconds=round(am["seconds"], 2),
        peak_mb=round(am["peak_mb"], 1),
    )
    cc = concord(n)
    line(
        bench="peer_alertmanager",
        system="concord",
        metric="items_per_s",
        value=round(cc["per_s"], 1),
        unit="1/s",
        n=n,
        seconds=round(cc["seconds"], 2),
        peak_mb=round(cc["peak_mb"], 1),
    )
    line(
        bench="peer_alertmanager",
        metric="ratio",
        value=round(cc["per_s"] / am["per_s"], 3),
        unit="concord/alertmanager",
        n=n,
        target=0.5,
    )


if __name__ == "__main__":
    main()
