"""The watchdog, provoked: a stage that stops (a drill setting) leaves records waiting."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from tests.conftest import make_signal, private_worker, wait_until
from tests.integration.up import Up

pytestmark = pytest.mark.integration

#: The quiet before the burst, and the watchdog's threshold. Scaled down for the suite;
#: `CONCORD_TEST_IDLE_SECONDS=300 CONCORD_TEST_IDLE_WATCHDOG=120` runs it at production
#: scale (five minutes, the default threshold).
IDLE = float(os.environ.get("CONCORD_TEST_IDLE_SECONDS", "14"))
WATCHDOG = os.environ.get("CONCORD_TEST_IDLE_WATCHDOG", "4")


def test_a_stalled_partition_is_named_then_the_worker_exits(
    smtp_server: SmtpCapture, slack_server: SlackApiServer, tmp_path: Path
) -> None:
    with private_worker(
        smtp_server,
        slack_server,
        tmp_path,
        {},
        watchdog_seconds="4",
        fault_stall_stage="correlate",
    ) as (w, _producer):
        assert w.request("GET", "/healthz").status == 200
        producer = KafkaProducer(bootstrap_servers=w.env["CONCORD_BROKER"].split("://", 1)[1])
        for _ in range(3):
            s = make_signal()
            producer.send(
                "concord.signals.in", key=str(s["id"]).encode(), value=json.dumps(s).encode()
            )
        producer.flush()
        producer.close()
        health = wait_until(
            lambda: (r := w.request("GET", "/healthz")).status == 503 and r.body, timeout=30
        )
        assert health["status"] == "stalled"
        assert any(p.startswith("concord.signals:") for p in health["stalled_partitions"])
        assert w.metric("concord_stalled_partitions") >= 1
        code = wait_until(lambda: w.proc.poll(), timeout=30)  # exits for its supervisor
        assert code == 70
        log = w.log.read_text()
        assert "watchdog: records on concord.signals:" in log
        assert "with no progress" in log


def test_an_idle_concord_up_takes_a_burst_without_a_false_alarm(tmp_path: Path) -> None:
    """Quiet for longer than the watchdog's threshold (twice, and more), then a burst:
    two anonymous reports and raw records on partitions nothing ever used. The records
    have waited for nothing yet: nothing is flagged, nothing exits. (In production the
    threshold is 120 s and the quiet time hours; the rule is the same, scaled down.)"""
    up = Up(tmp_path)
    # Four partitions, as workers have (`concord up` alone makes one), none of which
    # has had a record before the burst.
    up.env.update(CONCORD_WATCHDOG_SECONDS=WATCHDOG, CONCORD_PARTITIONS="4")
    up.start()
    try:
        started = time.monotonic()
        # The point is idleness: nothing to wait for but time itself.
        time.sleep(IDLE)  # over 3 x the threshold: long enough for the old rule to kill
        report = {
            "category": "harassment",
            "summary": "Insults at the stop.",
            "area": "centre",
            "occurred_at": "2026-12-01T20:42:00+01:00",
            "reporter_role": "witness",
        }
        for _ in range(2):
            assert up.post("/api/reports", report, token="") == 202
        bootstrap = (up.home / "data" / "broker").read_text().strip().split("://", 1)[1]
        producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
        for partition in range(4):
            s = make_signal()
            producer.send(
                "concord.signals.in",
                key=str(s["id"]).encode(),
                value=json.dumps(s).encode(),
                partition=partition,
            )
        producer.flush()
        producer.close()
        # Watched for longer than the old rule needed to flag it and exit.
        deadline = time.monotonic() + 16
        while time.monotonic() < deadline:
            status, health = up.get("/healthz")
            assert status == 200, (round(time.monotonic() - started), health)
            assert up.proc is not None
            assert up.proc.poll() is None
            time.sleep(0.5)
        _, metrics = up.get("/metrics")
        assert "concord_stalls_total 0.0" in metrics
    finally:
        if up.proc is not None and up.proc.poll() is None:
            up.stop(signal.SIGTERM)
