"""`concord deadletter replay`: a record refused before a fix is processed after it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from kafka import KafkaProducer

from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from tests.conftest import ROOT, make_signal, private_worker, restart, wait_until

pytestmark = pytest.mark.integration


def test_replay_after_a_fix_is_audited_and_once(
    smtp_server: SmtpCapture, slack_server: SlackApiServer, tmp_path: Path
) -> None:
    directory = tmp_path / "directory.yml"
    shutil.copy(ROOT / "directory.yml", directory)
    with private_worker(smtp_server, slack_server, tmp_path, {}, directory=str(directory)) as (
        w,
        _producer,
    ):
        # A school reports from an area the directory does not know yet: dead-lettered.
        signal = make_signal(area="harbour", category="harassment", severity=2)
        producer = KafkaProducer(bootstrap_servers=w.env["CONCORD_BROKER"].split("://", 1)[1])
        producer.send(
            "concord.signals.in", key=str(signal["id"]).encode(), value=json.dumps(signal).encode()
        )
        producer.flush()
        producer.close()

        def letters() -> list[str]:
            """The ids of the dead letters that name the harbour."""
            found, current = [], None
            for line in w.cli("deadletter", "show").stdout.decode().splitlines():
                if m := re.match(r"(dl-\d+-\d+) ", line):
                    current = m.group(1)
                elif current and "harbour" in line:
                    found.append(current)
            return found

        first = wait_until(letters, timeout=30)
        assert w.cli("deadletter", "replay").returncode == 2  # nothing named: a clear error

        # The fix: the directory gets the area; the worker restarts with it.
        text = directory.read_text().replace(
            "  - {code: south,",
            "  - {code: harbour, name: Harbour, neighbours: []}\n  - {code: south,",
        )
        directory.write_text(text)
        restart(w)
        done = w.cli("deadletter", "replay", first[0])
        assert done.returncode == 0, done.stderr.decode()
        assert "replayed 1, skipped 0" in done.stdout.decode()
        coordinator = w.cli("token", "create", "c", "--role", "coordinator").stdout.decode().strip()

        def situation() -> bool:
            r = w.request("GET", "/api/situations", token=coordinator)
            return r.status == 200 and any(
                ref["id"] == signal["id"] for s in r.body for ref in s["signals"]
            )

        wait_until(situation, timeout=30)
        again = w.cli("deadletter", "replay", first[0])
        assert again.returncode == 1
        assert "replayed before" in again.stderr.decode()
        from tests.integration.helpers import audit_entries

        (entry,) = audit_entries(w, first[0], "record.replayed")
        assert entry.via == "cli"
        assert entry.details["topic"] == "concord.signals.in"
