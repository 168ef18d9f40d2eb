"""How fast `POST /api/signals` accepts signals: single-signal POSTs from 8 keep-alive
clients posting as fast as answers come, and arrays of 100.

Each signal is in its own area with one Slack task, pacing off; a POST's 202 means the
signal is durably in Kafka. Prints accepted signals per second for both, and the
worker's CPU per signal, as JSON lines; with `CONCORD_BENCH_PYSPY` (py-spy's binary) the
frames the worker spent most time in while the single POSTs came.
Usage: [BENCH_SETTINGS=name=value,...] python bench/intake.py [N] [CLIENTS]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import profile, top_frames
from stack import Stack, cpu, extra_settings, line


async def post_singles(s: Stack, bodies: list[bytes], clients: int) -> float:
    """Post every body alone, `clients` at a time; returns the seconds it took."""
    headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "application/json"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:

        async def client() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with http.post(f"{s.base}/api/signals", data=body) as resp:
                    assert resp.status == 202, await resp.text()

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.monotonic() - started


async def post_arrays(s: Stack, signals: list[dict[str, object]], size: int) -> float:
    """Post the signals in arrays of `size`, one array at a time; returns the seconds."""
    headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as http:
        started = time.monotonic()
        for i in range(0, len(signals), size):
            body = json.dumps(signals[i : i + size])
            async with http.post(f"{s.base}/api/signals", data=body) as resp:
                assert resp.status == 202, await resp.text()
        return time.monotonic() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    settings = {"slack_channel_interval_seconds": "0", "slack_workspace_rate": "0"}
    settings.update(extra_settings())  # e.g. BENCH_SETTINGS=partitions=8
    with Stack(2 * n, 1, **settings) as s:
        assert s.proc is not None
        singles = [json.dumps(s.signal(i)).encode() for i in range(n)]
        spy = profile(s.proc.pid)
        c0 = cpu(s.proc.pid)
        took = asyncio.run(post_singles(s, singles, clients))
        used = cpu(s.proc.pid) - c0
        if spy is not None:
            top_frames(spy, "intake")
        line(
            bench="intake",
            metric="single_posts_per_s",
            value=round(n / took, 1),
            unit="1/s",
            n=n,
            clients=clients,
            cpu_ms_per_item=round(1000 * used / n, 2),
            target=1000,
        )
        arrays = [s.signal(n + i) for i in range(n)]
        c0 = cpu(s.proc.pid)
        took = asyncio.run(post_arrays(s, arrays, 100))
        used = cpu(s.proc.pid) - c0
        line(
            bench="intake",
            metric="array_signals_per_s",
            value=round(n / took, 1),
            unit="1/s",
            n=n,
            size=100,
            cpu_ms_per_item=round(1000 * used / n, 2),
            target=10000,
        )


if __name__ == "__main__":
    main()
