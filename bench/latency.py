"""Latency from `POST /api/signals` to `chat.postMessage` received, one signal at a time.

Signals are posted one per request at a steady rate (default 200 a second for 10 s), each
in its own area with one Slack task (no review), pacing off; the local Slack Web API
server notes when each message arrives. Prints p50, p90, p99 and max (ms), the rate
reached, and the worker's peak memory, as one JSON line per rate.
Usage: python bench/latency.py [RATE] [SECONDS] [RATE ...]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack, extra_settings, line, wait


async def post_all(s: Stack, signals: list[dict[str, object]], rate: float) -> dict[str, float]:
    """Post each signal at its slot (`rate` a second); returns id -> when it was posted."""
    posted: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:

        async def one(signal: dict[str, object], at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            posted[str(signal["id"])] = time.time()
            async with http.post(f"{s.base}/api/signals", data=json.dumps(signal)) as resp:
                assert resp.status == 202, await resp.text()

        start = time.monotonic() + 0.2
        await asyncio.gather(*(one(x, start + i / rate) for i, x in enumerate(signals)))
    return posted


def measure(rate: float, seconds: float) -> None:
    n = int(rate * seconds)
    settings = {"slack_channel_interval_seconds": "0", "slack_workspace_rate": "0"}
    settings.update(extra_settings())
    with Stack(n, 1, **settings) as s:
        signals = [s.signal(i) for i in range(n)]
        tasks = {str(x["id"]): s.task(x) for x in signals}
        t0 = time.time()
        posted = asyncio.run(post_all(s, signals, rate))
        post_seconds = time.time() - t0
        seen = wait(
            lambda: (k := s.slack_keys()) and set(tasks.values()) <= set(k) and k,
            timeout=max(120.0, 10 * seconds),
        )
        ms = sorted((seen[tasks[sid]] - at) * 1000 for sid, at in posted.items())
        q = statistics.quantiles(ms, n=100)
        line(
            bench="latency",
            metric="p99_ms",
            value=round(q[98], 1),
            unit="ms",
            rate=rate,
            seconds=seconds,
            n=n,
            p50_ms=round(q[49], 1),
            p90_ms=round(q[89], 1),
            max_ms=round(ms[-1], 1),
            posted_per_s=round(n / post_seconds, 1),
            peak_mb=round(s.peak_mb(), 1),
            target_p99_ms=100,
        )


def main() -> None:
    args = [float(a) for a in sys.argv[1:]] or [200.0, 10.0, 50.0]
    rate, seconds = args[0], (args[1] if len(args) > 1 else 10.0)
    measure(rate, seconds)
    for extra in args[2:]:
        measure(extra, seconds)


if __name__ == "__main__":
    main()
