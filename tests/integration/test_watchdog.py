"""The watchdog, provoked: a stage that stops (a drill setting) leaves records waiting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaProducer

from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from tests.conftest import make_signal, private_worker, wait_until

pytestmark = pytest.mark.integration


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
        assert "watchdog: concord.signals:" in log and "no progress for" in log
