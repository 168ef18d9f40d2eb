"""A broker that stops answering, on a real broker frozen with SIGSTOP: a request that
needs its ack is answered 503 with `Retry-After` within `CONCORD_BROKER_ACK_SECONDS`,
not held for the producer's own timeout (twenty minutes); a view that must be audited
first shows nothing; a Slack click is told to try again before Slack gives up (3 s);
once the broker answers again, what is sent again is taken, and only once."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SLACK_SIGNING_SECRET, Http, Worker, wait_until
from tests.integration.helpers import signed_slack, worker_of_its_own

# One stack for the module (its tests share it, whatever process runs them).
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker-down")]

ACK_SECONDS = 4.0  # longer than Slack waits: its clicks are answered sooner


def report(signal_id: str, said: str) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {
        "id": signal_id,
        "kind": "incident",
        "category": "hate_crime",
        "severity": 3,
        "occurred_at": at,
        "area": "north",
        "source": {"type": "ngo", "name": "Frozen broker test"},
        "summary": said,
    }


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[tuple[Worker, str, str]]:
    with worker_of_its_own(request, "frozen", broker_ack_seconds=str(ACK_SECONDS)) as (w, p):
        made = w.cli("token", "create", "frozen-coordinator", "--role", "coordinator")
        yield w, p, made.stdout.decode().strip()


#: A report as the public's form sends it (the city's time, to the minute).
REPORT_FORM = {
    "category": "harassment",
    "area": "north",
    "occurred_at": (datetime.now(ZoneInfo("Europe/Brussels")) - timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M"
    ),
    "summary": "Insulted at the bus stop by the frozen clock.",
    "wants": "register",
    "reporter_role": "witness",
}


#: A report as an NGO's system sends it, with its own key for it.
API_REPORT = {**REPORT_FORM, "category": "hate_crime", "summary": "Spat at by the frozen clock."}
API_REPORT["occurred_at"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
KEYED = {"Idempotency-Key": '"9f1c2d7e-frozen-broker"'}


def send_form(w: Worker, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """POST /report as a French-speaking browser on Concord's own page would (following
    the redirect to the receipt: its address is in `Location`)."""
    sent = urllib.request.Request(
        w.base + "/report",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Accept-Language": "fr", "Sec-Fetch-Site": "same-origin"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(sent, timeout=15) as resp:
            return resp.status, {**resp.headers, "Location": resp.url}, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def ids(situation: dict[str, Any]) -> list[str]:
    return [ref["id"] for ref in situation["signals"]]


def timed(call: Any) -> tuple[Http, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_a_frozen_broker_gets_503_in_time_and_the_signal_sent_again_is_taken_once(
    stack: tuple[Worker, str, str],
) -> None:
    w, producer, coordinator = stack
    assert w.broker_pid is not None
    first, second = (
        report("frozen-first", "Shouted at on the tram."),
        report("frozen-second", "Shouted at again."),
    )
    assert w.request("POST", "/api/signals", first, token=producer).status == 202

    def situation() -> dict[str, Any] | None:
        found = w.request("GET", "/api/situations", token=coordinator).body
        return next((s for s in found if "frozen-first" in ids(s)), None)

    wait_until(situation)
    os.kill(w.broker_pid, signal.SIGSTOP)
    try:
        posted, took = timed(lambda: w.request("POST", "/api/signals", second, token=producer))
        viewed, view_took = timed(lambda: w.request("GET", "/api/situations", token=coordinator))
        form_status, form_headers, form_page = send_form(w, REPORT_FORM)
        by_api = w.request("POST", "/api/reports", API_REPORT, headers=KEYED)
    finally:
        os.kill(w.broker_pid, signal.SIGCONT)
    assert posted.status == 503, posted.body
    assert posted.headers["Retry-After"] == "5"
    assert "send it again" in posted.body["error"]
    assert ACK_SECONDS <= took < ACK_SECONDS + 3
    # The report's text is shown only once its reading is in the audit: not now.
    assert viewed.status == 503, viewed.body
    assert "Shouted" not in str(viewed.body)
    assert ACK_SECONDS <= view_took < ACK_SECONDS + 3
    # The public's form comes back with what was typed, and why, in the reader's language.
    assert form_status == 503
    assert form_headers["Retry-After"] == "5"
    assert "n’a pas pu confirmer à l’instant que votre signalement" in form_page
    assert REPORT_FORM["summary"] in form_page
    again = dict(re.findall(r'name="(again|again_token)" value="([^"]+)"', form_page))
    assert set(again) == {"again", "again_token"}
    assert by_api.status == 503, by_api.body

    # Back: the client sends it again (its record may also arrive from before).
    wait_until(lambda: w.request("POST", "/api/signals", second, token=producer).status == 202, 60)
    # And the person sends the form again as it came back: the same receipt.
    status, headers, _ = send_form(w, {**REPORT_FORM, **again})
    assert status == 200
    assert f"/report/{again['again']}?" in headers["Location"]
    report_id = f"report-{again['again']}"
    # An NGO's system sends its report again with the same key: the same receipt, each
    # time (the second time as if the first answer had been lost).
    receipts = {w.request("POST", "/api/reports", API_REPORT, headers=KEYED).body["receipt"]}
    receipts.add(w.request("POST", "/api/reports", API_REPORT, headers=KEYED).body["receipt"])
    assert len(receipts) == 1
    api_id = f"report-{receipts.pop()}"
    expected = {"frozen-second", report_id, api_id}
    both = wait_until(
        lambda: (s := situation()) is not None and expected <= set(ids(s)) and s,
        60,
    )
    assert sorted(ids(both)) == sorted(["frozen-first", *expected])  # once each
    said = {r["id"]: r["summary"] for r in both["signals"]}
    assert said["frozen-second"] == "Shouted at again."


def slack_click(w: Worker, person: str, task_id: str) -> tuple[int, dict[str, Any], float]:
    """A liaison's Acknowledge button, signed as Slack signs; its answer and how long."""
    button = {"action_id": "task.ack", "value": task_id, "action_ts": f"{time.time():.6f}"}
    payload = {"type": "block_actions", "user": {"id": person}, "actions": [button]}
    headers, body = signed_slack(payload, SLACK_SIGNING_SECRET)
    sent = urllib.request.Request(w.base + "/slack/actions", data=body, headers=headers)
    started = time.monotonic()
    with urllib.request.urlopen(sent, timeout=15) as resp:
        return resp.status, json.loads(resp.read()), time.monotonic() - started


def test_a_slack_click_the_broker_cannot_confirm_is_told_within_slacks_3_s(
    stack: tuple[Worker, str, str],
) -> None:
    w, producer, coordinator = stack
    # The rumour's playbook needs an incident in the area first: this test's own (the
    # tests of a module may run in different processes, each with its own stack).
    incident = report("frozen-incident", "Pushed on the tram.")
    assert w.request("POST", "/api/signals", incident, token=producer).status == 202
    rumour = {**report("frozen-rumour", "They say a revenge is planned."), "kind": "tension"}
    rumour["category"] = "rumour"
    assert w.request("POST", "/api/signals", rumour, token=producer).status == 202

    def counter_task() -> str | None:
        found = w.request("GET", "/api/tasks", token=coordinator).body
        return next(
            (
                t["id"]
                for t in found
                if "frozen-rumour" in t["signals"]
                and t["agency"] == "ngo-antiracism"
                and t["state"] == "assigned"
            ),
            None,
        )

    task_id = wait_until(counter_task, 60)
    assert w.broker_pid is not None
    os.kill(w.broker_pid, signal.SIGSTOP)
    try:
        status, reply, took = slack_click(w, "U-YOUSSEF", task_id)
    finally:
        os.kill(w.broker_pid, signal.SIGCONT)
    assert status == 200
    assert took < 3  # Slack shows its own error past 3 s
    # In Youssef's language: nothing recorded, try again.
    assert reply["text"] == (
        "Non enregistré : Concord n’a pas pu le confirmer à l’instant. "
        "Réessayez dans quelques secondes."
    )
    wait_until(lambda: slack_click(w, "U-YOUSSEF", task_id)[1]["text"].startswith("Enregistré"))
