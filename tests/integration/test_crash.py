"""A worker SIGKILLed mid-flow: nothing is lost, and the restarted worker does not resend.

Runs its own worker (own app id) on the session's broker, SMTP and Slack servers.
"""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import pytest

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

pytestmark = pytest.mark.integration

N = 40


def test_sigkill_loses_nothing_and_sends_once(
    broker_url: str,
    smtp_server: SmtpCapture,
    slack_server: SlackApiServer,
    outbox: Outbox,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = worker_env(broker_url, smtp_server, slack_server, tmp_path, port)
    log = tmp_path / "worker.log"
    w = Worker(start_worker(env, log), env, f"http://127.0.0.1:{port}", log, tmp_path)
    try:
        wait_healthy(w)
        signals = [
            make_signal(category="rumour", kind="tension", severity=2, area=area)
            for area in ("north", "centre", "south")
            for _ in range(N // 3 + 1)
        ][:N]
        expected = {
            task_of(s, "rumour-after-incident", key): s["id"]
            for s in signals
            for key in ("youth-outreach", "ngo-counter")
        }

        def delivered() -> collections.Counter[str]:
            keys = [m.headers.get("Message-ID", "")[1:].split(".")[0] for m in outbox.emails()]
            keys += [
                str(c.payload.get("metadata", {}).get("event_payload", {}).get("key", "")).split(
                    "."
                )[0]
                for c in outbox.slack()
            ]
            return collections.Counter(k for k in keys if k in expected)

        # Produce straight to Kafka so the whole batch is in flight when the worker dies.
        import json

        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=broker_url.split("://")[1])
        for s in signals:
            producer.send("concord.signals.in", key=s["id"].encode(), value=json.dumps(s).encode())
        producer.flush()
        producer.close()

        wait_until(lambda: len(delivered()) >= len(expected) // 3, timeout=60, interval=0.02)
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait()
        at_kill = len(delivered())

        w.proc = start_worker(env, log)
        wait_healthy(w)
        wait_until(lambda: len(delivered()) == len(expected), timeout=120, interval=0.2)
        counts = delivered()
        dupes = {k: n for k, n in counts.items() if n > 1}
        print(
            f"delivered at kill: {at_kill}/{len(expected)}; duplicates after restart: {len(dupes)}"
        )
        assert set(counts) == set(expected), "a task was lost"
        assert not dupes, f"{len(dupes)} task(s) sent twice: {sorted(dupes)[:5]}"
    finally:
        stop_worker(w.proc)
