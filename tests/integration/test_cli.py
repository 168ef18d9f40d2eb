"""The `concord` command as a user runs it, against the real broker and worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from concord.embedded.net import free_port
from concord.embedded.outbox import Outbox
from tests.browser import chromium_page
from tests.conftest import ROOT, Worker, make_signal, wait_until
from tests.integration.helpers import emails_for, task_of

pytestmark = pytest.mark.integration


def test_signal_send_from_file_and_stdin(worker: Worker, outbox: Outbox, tmp_path: Path) -> None:
    # A rumour after an incident in the same area (the playbook's threshold).
    incident = make_signal(category="hate_crime", severity=4, area="south")
    at = datetime.fromisoformat(str(incident["occurred_at"])) + timedelta(hours=5)
    first = make_signal(
        category="rumour", kind="tension", severity=2, area="south", occurred_at=at.isoformat()
    )
    bad = make_signal(severity=0)
    file = tmp_path / "signals.jsonl"
    file.write_text(
        "\n".join([json.dumps(incident), json.dumps(first), "", json.dumps(bad), "not json", "{}"])
    )
    result = worker.cli("signal", "send", str(file))
    out = result.stdout.decode()
    assert result.returncode == 1, out
    assert f"{file}:4: severity: Input should be greater than or equal to 1" in out
    assert f"{file}:5: not JSON" in out
    assert f"{file}:6: category: Field required" in out
    # Lines are counted as lines, and their problems as problems (line 6 has several).
    problems = [line for line in out.splitlines() if line.startswith(f"{file}:")]
    assert f"sent 2 signal(s), refused 3 line(s) ({len(problems)} problem(s))" in out
    assert len(problems) > 3
    # Both join one situation, named after whichever reached correlation first (signals
    # are keyed by id on the way in, so two partitions may be read in either order).
    youth = [task_of(s, "rumour-after-incident", "youth-outreach") for s in (incident, first)]
    mail = outbox.wait_for(lambda o: emails_for(o, youth[0]) or emails_for(o, youth[1]))[0]
    assert mail.rcpt_to == ["duty@jeugd.concordia.example"]
    assert "Beste Lotte De Smet" in mail.text  # Dutch liaison

    second = make_signal(category="harassment", severity=2, area="north")
    result = worker.cli("signal", "send", "-", stdin=json.dumps(second).encode() + b"\n")
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    outbox.wait_for(lambda o: emails_for(o, task_of(second, "victim-support-referral", "refer")))


def test_token_create_refuses_bad_input(worker: Worker) -> None:
    r = worker.cli("token", "create", "x", "--role", "admin")
    assert r.returncode == 2
    assert b"--role must be one of" in r.stderr
    r = worker.cli("token", "create", "x", "--role", "liaison")
    assert r.returncode == 2
    assert b"needs --agency" in r.stderr
    r = worker.cli("token", "create", "someone", "--role", "panel")
    assert r.returncode == 2
    assert b"named after its member: one of panel-researcher" in r.stderr
    r = worker.cli("token", "create", "x", "--role", "liaison", "--agency", "nasa")
    assert r.returncode == 2
    assert b"unknown agency 'nasa'" in r.stderr


def test_deadletter_show_opens_originals(worker: Worker, tokens: dict[str, str]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=worker.env["CONCORD_BROKER"].split("://")[1])
    producer.send("concord.signals.in", key=b"cli-bad", value=b"<xml>nope</xml>")
    producer.flush()
    producer.close()

    def shown() -> str | None:
        r = worker.cli("deadletter", "show", "--original", "--limit", "1000")
        text = r.stdout.decode()
        return text if "<xml>nope</xml>" in text else None

    text = wait_until(shown, timeout=30, interval=0.5)
    assert "not JSON" in text


def _tansu_pids(port: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"tansu" in cmd and f"127.0.0.1:{port}".encode() in cmd:
                pids.append(int(entry.name))
    return pids


def test_up_demo_plays_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update(
        CONCORD_WEB_PORT=str(port),
        CONCORD_DATA_DIR=str(tmp_path / "data"),
        CONCORD_PLAYBOOKS=str(ROOT / "playbooks"),
        CONCORD_DIRECTORY=str(ROOT / "directory.yml"),
        COLUMNS="200",
    )
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "concord.cli", "up", "--demo"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        broker_file = tmp_path / "data" / "broker"
        url = wait_until(
            lambda: broker_file.exists() and broker_file.read_text().strip(), timeout=30
        )
        broker_port = int(url.rsplit(":", 1)[1])
        assert _tansu_pids(broker_port)
        wait_until(lambda: "demo played" in log.read_text(), timeout=90, interval=0.3)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/outbox", timeout=10) as resp:
            page = resp.read().decode()
        assert "C-POLICE" in page
        assert "accueil@victimes.concordia.example" in page
        assert "Amina" not in page  # the demo's victim is never sent out
        with chromium_page() as browser:
            # The outbox reloads itself every 5 s, so each check retries across a reload
            # (a one-shot read or a screenshot can land in the middle of one and hang).
            browser.goto(f"http://127.0.0.1:{port}/outbox")
            expect(browser).to_have_title("Concord — outbox")
            expect(browser.locator("article.slack").nth(3)).to_be_attached()
            expect(browser.locator("article.email").nth(1)).to_be_attached()
        # Rich markup in an id once crashed correlation in this console's narration.
        beside = {**env, "CONCORD_DATA_DIR": str(tmp_path / "data")}
        odd = make_signal(id="drill-report[/]42", exercise=True, area="south", severity=4)
        sent = subprocess.run(
            [sys.executable, "-m", "concord.cli", "signal", "send", "-"],
            env=beside,
            cwd=tmp_path,
            input=json.dumps(odd).encode(),
            capture_output=True,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr
        made = subprocess.run(
            [sys.executable, "-m", "concord.cli", "token", "create", "me", "--role", "coordinator"],
            env=beside,
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )
        token = made.stdout.decode().strip()

        def situation() -> bool:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/situations")
            req.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    found = json.loads(resp.read())
            except urllib.error.HTTPError:
                return False
            return any(r["id"] == "drill-report[/]42" for s in found for r in s["signals"])

        wait_until(situation, timeout=30)
        wait_until(lambda: "signal drill-report[/]42 hate_crime" in log.read_text(), timeout=10)
        # The outbox shows every link: not to a page that rebinds a name to 127.0.0.1.
        req = urllib.request.Request(f"http://127.0.0.1:{port}/outbox")
        req.add_header("Host", "rebound.evil.example")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        assert refused.value.code == 403
        text = log.read_text()
        assert "playbook racist-assault fired" in text
        assert "analysis v1 of sit-" in text
        assert "awaits the panel" in text
        assert "analysis v2 of sit-" in text
        assert "approved by panel-practitioner" in text
        assert "dead-letter not JSON" in text
        assert "EXERCISE" in text
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert not broker_file.exists()
    assert not _tansu_pids(broker_port), "orphan broker left behind"


def test_playbooks_validate_reports_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "id: a\ntitle: A\nwhen:\n  category: [hate_crime]\n  colour: red\n"
        "tasks:\n  - id: t1\n    agency: nasa\n    title: T\n    action: '{{ victim.name }}'\n"
    )
    (tmp_path / "b.yml").write_text("id: b\ntitle: [unclosed\n")
    env = {**os.environ, "CONCORD_DIRECTORY": str(ROOT / "directory.yml")}
    r = subprocess.run(
        [sys.executable, "-m", "concord.cli", "playbooks", "validate", str(tmp_path)],
        env=env,
        capture_output=True,
        timeout=60,
    )
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 1
    assert f"{tmp_path}/a.yml:5:3: when.colour: unknown field 'colour'" in lines
    assert any(line.startswith(f"{tmp_path}/b.yml:3:1: YAML syntax") for line in lines), lines
    missing = subprocess.run(
        [sys.executable, "-m", "concord.cli", "playbooks", "validate", str(tmp_path / "nope.yml")],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert missing.stdout == b""
    assert (
        missing.stderr.decode().strip() == f"error: no such file or directory: {tmp_path}/nope.yml"
    )
    ok = subprocess.run(
        [sys.executable, "-m", "concord.cli", "playbooks", "validate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert ok.returncode == 0
    assert b"ok: 8 playbook(s), 21 example(s) passed" in ok.stdout


def test_playbooks_test_explains_fired_suppressed_and_inhibited(tmp_path: Path) -> None:
    signals = [
        make_signal(id="a", category="hate_crime", severity=4, area="south"),
        make_signal(id="b", category="online_hate", severity=3, area="north", tags=["school"]),
    ]
    later = datetime.fromisoformat(str(signals[1]["occurred_at"])) + timedelta(days=2)
    signals.append({**signals[1], "id": "c", "occurred_at": later.isoformat()})
    signals.append({**signals[0], "id": "a"})  # a duplicate
    file = tmp_path / "s.jsonl"
    file.write_text("\n".join(json.dumps(s) for s in signals) + "\n{bad\n")
    env = {
        **os.environ,
        "CONCORD_DIRECTORY": str(ROOT / "directory.yml"),
        "CONCORD_PLAYBOOKS": str(ROOT / "playbooks"),
    }
    r = subprocess.run(
        [sys.executable, "-m", "concord.cli", "playbooks", "test", str(file), "--json"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 1  # a line was refused
    report = json.loads(r.stdout)
    decided = {(d["line"], d["playbook"]): d for d in report["decisions"]}
    assert decided[(1, "racist-assault")]["status"] == "fired"
    tasks = {t["task"]: t for t in decided[(1, "racist-assault")]["tasks"]}
    assert tasks["protect"]["agency"] == "police"
    assert tasks["protect"]["urgent"]
    assert tasks["protect"]["translations"]["fr"]["title"].startswith("Protéger")
    assert tasks["schools-watch"]["waits_for"] == ["protect"]
    assert decided[(1, "victim-support-referral")]["reason"] == "inhibited by racist-assault"
    assert decided[(2, "online-hate-school")]["status"] == "fired"
    assert decided[(3, "online-hate-school")]["status"] == "suppressed"
    assert "suppress.same_area_for" in decided[(3, "online-hate-school")]["reason"]
    assert report["duplicates"] == [{"line": 4, "signal": "a"}]
    assert report["refused"][0]["line"] == 5
    assert report["situations"] == 3
    human = subprocess.run(
        [sys.executable, "-m", "concord.cli", "playbooks", "test", str(file)],
        env=env,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    assert "online-hate-school v1 suppressed for" in human
    assert "→ police/police-duty: Secure the victim and the area URGENT" in human
