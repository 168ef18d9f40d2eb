"""Stages take their records in batches, on the real broker: a worker that dies in the
middle of a batch replays it after its restart, and nothing is sent twice."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from concord.agents.stage import DRILL_EXIT
from concord.core.correlation import situation_id
from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from tests.conftest import (
    Worker,
    make_signal,
    private_worker,
    start_worker,
    wait_healthy,
    wait_until,
)
from tests.integration.helpers import (
    OUTAGE_PLAYBOOK,
    audit_entries,
    emails_for,
    read_records,
    records,
    slack_for,
    task_of,
)

pytestmark = pytest.mark.integration


#: Signals in one POST: each its own situation (each on a day of its own), each two
#: tasks (one by email, one by Slack).
SIGNALS = 8


def drilled(
    smtp: SmtpCapture, slack: SlackApiServer, root: Path, **drill: str
) -> contextlib.AbstractContextManager[tuple[Worker, str]]:
    """A worker of its own whose stages take the burst as one batch, with a drill."""
    return private_worker(
        smtp,
        slack,
        root,
        {"outage-test.yml": OUTAGE_PLAYBOOK},
        None,
        # Long enough for the burst's records to reach the stage as one batch.
        **{"slack_channel_interval_seconds": "0", "batch_within_ms": "300", **drill},
    )


def burst(w: Worker, producer: str) -> list[dict[str, Any]]:
    """POST the signals in one request: each its own situation, with one task by Slack
    (`chat`) and one by email (`mail`)."""
    signals = [
        make_signal(kind="tension", category="other", severity=1, tags=["outage-test"])
        for _ in range(SIGNALS)
    ]
    assert w.request("POST", "/api/signals", signals, token=producer).status == 202
    return signals


def tasks_of(signals: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The signals' Slack tasks and email tasks."""
    chats = [task_of(s, "outage-test", "chat") for s in signals]
    mails = [task_of(s, "outage-test", "mail") for s in signals]
    return chats, mails


def restart_without(w: Worker, drill: str) -> None:
    """Start the worker again without its drill, once it is ready."""
    del w.env[drill]
    w.proc = start_worker(w.env, w.log)
    wait_healthy(w)


def where_on(w: Worker, topic: str, keys: list[str]) -> list[tuple[int, int, str]]:
    """Where the records of these keys are on `topic`: (partition, offset, action)."""
    bootstrap = w.env["CONCORD_BROKER"].split("://", 1)[1]
    return [
        (r.partition, r.offset, json.loads(r.value or b"{}").get("action", "?"))
        for r in read_records(bootstrap, topic)
        if (r.key or b"").decode() in keys
    ]


def delivered_once(w: Worker, outbox: Outbox, chats: list[str], mails: list[str]) -> None:
    """Every task is delivered (else say where its message stands), each message once."""
    tasks = chats + mails
    try:
        wait_until(lambda: all(audit_entries(w, t, "task.delivered") for t in tasks), timeout=90)
    except TimeoutError:
        missing = [t for t in tasks if not audit_entries(w, t, "task.delivered")]
        states = {
            (key or b"").decode(): json.loads(value)["state"]
            for key, value in records(w, "concord.delivery-state")
            if value and any(t in (key or b"").decode() for t in missing)
        }
        events = where_on(w, "concord.task-events", missing)
        pytest.fail(
            f"not delivered: {missing}; their messages: {states}; "
            f"their task events (partition, offset, action): {events}; log: {w.log}"
        )
    assert {t: len(slack_for(outbox, t)) for t in chats} == dict.fromkeys(chats, 1)
    assert {t: len(emails_for(outbox, t)) for t in mails} == dict.fromkeys(mails, 1)


@pytest.mark.parametrize(
    "stage",
    [
        # The signals' batch: correlated and planned in one step (situations, tasks).
        "correlate",
        # The tasks' batch: each dispatched to the delivery stage.
        "track",
    ],
)
@pytest.mark.parametrize(
    "store",
    [
        # Tables recovered from their changelogs alone.
        "memory://",
        # Production's store: the tables the dead worker wrote on its disk are read
        # again, then the changelogs from where it had got to.
        "rocksdb://",
    ],
)
def test_a_crash_in_the_middle_of_a_batch_replays_it_and_sends_nothing_twice(
    stage: str,
    store: str,
    smtp_server: SmtpCapture,
    slack_server: SlackApiServer,
    outbox: Outbox,
    tmp_path: Path,
) -> None:
    # Commits, recovery and the delivery stage's take-ups in the worker's log (`trace`):
    # what a failure of this test needs to be explained.
    drill = {"fault_crash_stage": stage, "trace": "1", "store": store}
    with drilled(smtp_server, slack_server, tmp_path, **drill) as (w, producer):
        signals = burst(w, producer)
        # The stage handles the batch's first record, then the worker dies: nothing it
        # wrote since is flushed, none of the batch's records is acked.
        assert wait_until(lambda: w.proc.poll(), timeout=60) == DRILL_EXIT
        assert f"drill: the worker dies in the middle of a batch of {stage}" in w.log.read_text()
        chats, mails = tasks_of(signals)
        tasks = chats + mails
        sent = sum(len(slack_for(outbox, t)) for t in chats)
        sent += sum(len(emails_for(outbox, t)) for t in mails)
        assert sent <= 1  # at most the batch's first task got out

        restart_without(w, "CONCORD_FAULT_CRASH_STAGE")
        # Every task went out once: the replayed batch's first task (handled before the
        # crash) was not posted a second time, the others were posted after the restart.
        delivered_once(w, outbox, chats, mails)
        for task in tasks:
            assert len(audit_entries(w, task, "task.delivered")) == 1
        # Each situation's playbook was planned once: its tasks were made once.
        for sig in signals:
            fired = audit_entries(w, situation_id(sig["id"], sig["area"]), "playbook.fired")
            assert len(fired) == 1, fired


def test_a_worker_stopped_with_a_batch_in_hand_exits_and_handles_it_after_its_restart(
    smtp_server: SmtpCapture,
    slack_server: SlackApiServer,
    outbox: Outbox,
    tmp_path: Path,
) -> None:
    # The track stage takes its first batch and handles none of it: as a stage does once
    # the worker begins to stop, it never acks it.
    with drilled(smtp_server, slack_server, tmp_path, fault_stall_stage="track") as (w, producer):
        signals = burst(w, producer)
        wait_until(lambda: "drill: track stops with a batch" in w.log.read_text(), timeout=60)
        # Stopped (Ctrl-C, SIGTERM), the worker commits what was acked and exits: it does
        # not wait for the batch it will read again.
        w.proc.send_signal(signal.SIGTERM)
        try:
            w.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not stop within 30 s: {w.log}")
        chats, mails = tasks_of(signals)
        tasks = chats + mails
        assert not any(audit_entries(w, t, "task.delivered") for t in tasks)

        restart_without(w, "CONCORD_FAULT_STALL_STAGE")
        delivered_once(w, outbox, chats, mails)
