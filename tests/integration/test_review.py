"""The expert panel's gate on the real broker, SMTP server and Slack API server."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from concord.core.correlation import situation_id
from concord.embedded.outbox import Outbox
from tests.conftest import SLACK_SIGNING_SECRET, Worker, make_signal, wait_until
from tests.integration.helpers import (
    WebClient,
    audit_entries,
    emails_for,
    panel_emails,
    panel_notices,
    sign_in_link,
    sign_in_mails,
    slack_for,
    task_of,
    worker_of_its_own,
)

pytestmark = pytest.mark.integration


def post_signal(worker: Worker, tokens: dict[str, str], signal: dict[str, Any]) -> None:
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202


def review_of(worker: Worker, token: str, sid: str, probe: Any = bool) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        r = worker.request("GET", f"/api/reviews/{sid}", token=token)
        return r.body if r.status == 200 and probe(r.body) else None

    return wait_until(found, timeout=30)  # type: ignore[no-any-return]


def situation(worker: Worker, token: str, sid: str) -> dict[str, Any]:
    r = worker.request("GET", f"/api/situations/{sid}", token=token)
    assert r.status == 200, r.body
    return r.body  # type: ignore[no-any-return]


def vote(worker: Worker, token: str, sid: str, **body: Any) -> Any:
    return worker.request("POST", f"/api/reviews/{sid}/votes", body, token=token)


def test_two_signals_one_situation_panel_notified_then_approved(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    first = make_signal(category="harassment", severity=3, area="centre", bias=["anti_roma"])
    at = datetime.fromisoformat(str(first["occurred_at"])) + timedelta(hours=2)
    second = make_signal(
        category="hate_crime",
        severity=4,
        area="centre",
        occurred_at=at.isoformat(),
        source={"type": "police", "name": "Patrol"},
        bias=["anti_roma"],  # the same motivation: one situation
    )
    sid = situation_id(str(first["id"]), "centre")
    post_signal(worker, tokens, first)
    coordinator = tokens["coordinator"]
    review_of(worker, coordinator, sid)
    post_signal(worker, tokens, second)
    wait_until(lambda: len(situation(worker, coordinator, sid)["signals"]) == 2)
    # The assault joined while the panel reviews the harassment: the analysis the panel
    # votes on is version 2, with the facts as they are now.
    current = review_of(worker, coordinator, sid, lambda b: b["version"] == 2)
    assert current["versions"][1]["changes"] == [
        f"signal {second['id']} joined: hate_crime in centre, severity 4"
    ]

    # The panel hears of it: one Slack message in its channel, one email per member.
    notice = outbox.wait_for(lambda o: panel_notices(o, sid))[0].payload
    assert notice["channel"] == "C-PANEL"
    buttons = {e["action_id"]: e for e in notice["blocks"][2]["elements"]}
    assert buttons["review.approve"]["value"] == f"{sid}|1"
    assert buttons["review.open"]["url"] == f"https://concord.city.example/review/{sid}"
    mails = outbox.wait_for(lambda o: len(panel_emails(o, sid)) == 3 and panel_emails(o, sid))
    by_rcpt = {m.rcpt_to[0]: m for m in mails}
    assert "Analyse modifiée" not in by_rcpt["aicha@collectif.concordia.example"].text
    assert "Le panel d'experts doit valider" in by_rcpt["aicha@collectif.concordia.example"].text
    assert "Het expertpanel moet" in by_rcpt["koen@mediation.concordia.example"].text
    text = by_rcpt["ana@uni.concordia.example"].text
    assert "Racist assault (racist-assault v2)" in text
    assert "Local police: Secure the victim" in text
    assert re.search(r"Approve: https://concord\.city\.example/t/\S+", text)

    # Held: the tasks wait for the panel, and nothing went to any liaison.
    protect = task_of(first, "racist-assault", "protect")
    # (The read model tails situations and tasks separately: wait for both.)
    body = wait_until(
        lambda: (
            (b := situation(worker, coordinator, sid))["state"] == "under_review"
            and {"protect", "support", "schools-watch"} <= {t["task_key"] for t in b["tasks"]}
            and b
        )
    )
    assert body["analysis"]["version"] == 2
    assert {t["awaiting"] for t in body["tasks"]} == {"panel"}
    assert not slack_for(outbox, protect)
    assert not emails_for(outbox, protect)

    # Bad votes get clear answers.
    ana, koen = panel_tokens["panel-researcher"], panel_tokens["panel-practitioner"]
    r = vote(worker, ana, sid, decision="maybe", version=2)
    assert r.status == 422
    assert r.body["errors"][0]["loc"] == "decision"
    r = vote(worker, ana, sid, decision="reject", version=2)
    assert r.status == 422
    assert "needs a reason" in r.body["errors"][0]["msg"]
    r = vote(worker, ana, sid, decision="approve", version=7)
    assert r.status == 409
    assert "version 7 does not exist" in r.body["error"]
    r = vote(worker, ana, sid, decision="approve", version=1)
    assert r.status == 409
    assert "vote on version 2" in r.body["error"]
    r = vote(worker, ana, "sit-nope", decision="approve", version=1)
    assert r.status == 404
    r = vote(worker, tokens["coordinator"], sid, decision="approve", version=1)
    assert r.status == 403

    # Dissent first, then the quorum of two approvals.
    aicha = panel_tokens["panel-community"]
    r = vote(worker, aicha, sid, decision="reject", version=2, reason="no evidence of motive yet")
    assert r.status == 202, r.body
    assert vote(worker, ana, sid, decision="approve", version=2).status == 202
    assert vote(worker, koen, sid, decision="approve", version=2).status == 202
    outbox.wait_for(lambda o: slack_for(o, protect))
    review = review_of(worker, coordinator, sid, lambda b: b["outcome"] == "approved")
    assert review["approvals"] == ["panel-practitioner", "panel-researcher"]
    assert [(v["member"], v["reason"]) for v in review["dissent"]] == [
        ("panel-community", "no evidence of motive yet")
    ]

    def responding() -> dict[str, Any] | None:
        b = situation(worker, coordinator, sid)
        sent = [t for t in b["tasks"] if t["state"] == "assigned"]
        return b if b["state"] == "responding" and len(sent) == 2 else None

    body = wait_until(responding)
    stamp = next(t for t in body["tasks"] if t["id"] == protect)["review"]
    assert stamp["analysis_version"] == 2
    assert stamp["released_by"] == "panel"
    assert stamp["approvals"] == ["panel-practitioner", "panel-researcher"]
    assert stamp["dissent"][0]["member"] == "panel-community"
    # A vote after the decision is refused with the reason.
    r = vote(worker, aicha, sid, decision="approve", version=2)
    assert r.status == 409
    assert "already approved" in r.body["error"]


def test_rejected_drill_dispatches_nothing(
    worker: Worker, tokens: dict[str, str], panel_tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = make_signal(severity=4, area="north", exercise=True)
    sid = situation_id(str(signal["id"]), "north")
    post_signal(worker, tokens, signal)
    notice = outbox.wait_for(lambda o: panel_notices(o, sid))[0].payload
    assert "EXERCISE" in notice["blocks"][1]["text"]["text"]
    assert all(
        m.subject.startswith("[EXERC") or m.subject.startswith("[OEFENING]")
        for m in outbox.wait_for(lambda o: panel_emails(o, sid))
    )
    coordinator = tokens["coordinator"]
    review_of(worker, coordinator, sid)
    for member, reason in (
        ("panel-researcher", "a dispute, not racist"),
        ("panel-community", "agreed"),
    ):
        r = vote(worker, panel_tokens[member], sid, decision="reject", version=1, reason=reason)
        assert r.status == 202, r.body

    def monitored() -> dict[str, Any] | None:
        b = situation(worker, coordinator, sid)
        done = b["state"] == "monitoring" and {t["state"] for t in b["tasks"]} == {"cancelled"}
        return b if done else None

    wait_until(monitored)
    # The board reads three topics (situations, tasks, reviews) that the read model
    # tails independently: the review record is published after its effects (so a
    # crash replays them), hence it may show up a moment after the situation moved.
    review_of(worker, coordinator, sid, lambda b: b["outcome"] == "rejected")
    outbox.wait_for(lambda o: panel_notices(o, sid, "rejected"))
    for key in ("protect", "support", "schools-watch"):
        task = task_of(signal, "racist-assault", key)
        assert not slack_for(outbox, task)
        assert not emails_for(outbox, task)


URGENT_PLAYBOOK = """
id: time-limit-test
version: 1
title: Time limit test
when:
  kind: [tension]
  category: [other]
  tags: [time-limit-test]
review:
  quorum: 2
  time_limit: 2s
  at_limit: urgent_only
tasks:
  - id: protect
    agency: police
    title: Protect now
    action: Protect the people in {{ area.name }}.
    urgent: true
  - id: later
    agency: youth
    title: Street work
    action: Street work in {{ area.name }}.
"""


def test_urgent_task_goes_out_at_the_time_limit_the_rest_waits(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    (worker.data_dir / "playbooks" / "time-limit-test.yml").write_text(URGENT_PLAYBOOK)
    wait_until(
        lambda: "time-limit-test" in worker.request("GET", "/healthz").body["playbook_versions"]
    )
    try:
        signal = make_signal(
            kind="tension", category="other", severity=2, area="south", tags=["time-limit-test"]
        )
        sid = situation_id(str(signal["id"]), "south")
        post_signal(worker, tokens, signal)
        urgent = task_of(signal, "time-limit-test", "protect")
        later = task_of(signal, "time-limit-test", "later")
        outbox.wait_for(lambda o: slack_for(o, urgent), timeout=30)
        reminder = outbox.wait_for(lambda o: panel_notices(o, sid, "reminder"))[0].payload
        assert "time limit" in reminder["blocks"][1]["text"]["text"]
        body = wait_until(
            lambda: (
                (b := situation(worker, tokens["coordinator"], sid))
                and {t["id"]: t for t in b["tasks"]}.get(urgent, {}).get("review")
                and b
            )
        )
        tasks = {t["id"]: t for t in body["tasks"]}
        assert tasks[urgent]["review"]["released_by"] == "time_limit"
        assert tasks[later]["state"] == "pending"
        assert tasks[later]["awaiting"] == "panel"
        assert body["state"] == "under_review"
        # Reminded three times, the panel stays silent: the coordinator is told (in
        # French), and the reminders stop.
        stalled = outbox.wait_for(lambda o: panel_emails(o, sid, "stalled"))
        assert [m.rcpt_to for m in stalled] == [["coordination@concordia.example"]]
        assert "Le panel n'a pas décidé après 3 rappels" in stalled[0].text
        # Email and Slack are separate lanes (Slack paced per channel): the stalled email
        # may arrive before the third Slack reminder does.
        outbox.wait_for(lambda o: len(panel_notices(o, sid, "reminder")) >= 3)
        review = review_of(worker, tokens["coordinator"], sid, lambda b: b["reminders"] == 3)
        assert len(panel_notices(outbox, sid, "reminder")) == 3
        assert review["deadline"] is None
        assert review["outcome"] == "pending"
        assert not emails_for(outbox, later)
        assert not slack_for(outbox, later)
    finally:
        (worker.data_dir / "playbooks" / "time-limit-test.yml").unlink()


def slack_request(
    worker: Worker, payload: dict[str, Any], secret: str = SLACK_SIGNING_SECRET, age: int = 0
) -> Any:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) - age)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(worker.base + "/slack/actions", data=body, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("X-Slack-Request-Timestamp", ts)
    req.add_header("X-Slack-Signature", sig)
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_slack_button_and_email_link_votes(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    signal = make_signal(category="harassment", severity=3, area="south")
    sid = situation_id(str(signal["id"]), "south")
    post_signal(worker, tokens, signal)
    coordinator = tokens["coordinator"]
    review_of(worker, coordinator, sid)
    button = {"action_id": "review.approve", "value": f"{sid}|1"}
    payload = {"type": "block_actions", "user": {"id": "U-ANA"}, "actions": [button]}

    # Bad, stale and missing signatures change nothing.
    assert slack_request(worker, payload, secret="wrong")[0] == 401
    assert slack_request(worker, payload, age=600)[0] == 401
    r = worker.request("POST", "/slack/actions", raw=b"payload=%7B%7D")
    assert r.status == 401
    stranger = {**payload, "user": {"id": "U-NOBODY"}}
    status, reply = slack_request(worker, stranger)
    assert status == 200
    assert "seuls les membres du panel d'experts" in reply["text"]  # the city's language
    status, reply = slack_request(worker, payload)
    assert status == 200, reply
    assert "recorded" in reply["text"], reply
    review_of(worker, coordinator, sid, lambda b: b["approvals"] == ["panel-researcher"])

    # Koen's email link: GET only shows what it would do, POST votes, reuse explains.
    # Each member's email is its own message: wait for Koen's, not for the first one.
    mail = outbox.wait_for(
        lambda o: next(
            (m for m in panel_emails(o, sid) if m.rcpt_to == ["koen@mediation.concordia.example"]),
            None,
        )
    )
    link = re.search(r"Goedkeuren: (\S+)", mail.text)
    assert link is not None
    path = link.group(1).removeprefix("https://concord.city.example")
    page = worker.request("GET", path)
    assert page.status == 200
    assert "Er gebeurt niets tot u bevestigt" in page.body
    assert review_of(worker, coordinator, sid)["approvals"] == ["panel-researcher"]
    assert worker.request("POST", path, raw=b"reason=").status == 202
    review = review_of(worker, coordinator, sid, lambda b: b["outcome"] == "approved")
    assert {v["via"] for v in review["votes"]} == {"slack", "email"}
    again = worker.request("GET", path)
    assert again.status == 409
    assert "U stemde al „goedkeuren”" in again.body
    assert worker.request("GET", path[:-3] + "xyz").status == 400


def test_review_page_in_a_browser_shows_the_analysis_and_takes_a_vote(
    worker: Worker, tokens: dict[str, str], outbox: Outbox
) -> None:
    from tests.browser import chromium_page

    signal = make_signal(category="hate_crime", severity=4, area="north", bias=["anti_muslim"])
    sid = situation_id(str(signal["id"]), "north")
    post_signal(worker, tokens, signal)
    review_of(worker, tokens["coordinator"], sid)
    with chromium_page() as page:
        email = "aicha@collectif.concordia.example"
        before = len(sign_in_mails(outbox, email))
        page.goto(worker.base + "/review")
        assert "/login?next=/review" in page.url  # no session: the sign-in form
        page.fill("input[name=email]", email)
        page.click("button[type=submit]")
        assert "sign-in link is on its way" in page.inner_text("[role=status]")

        link = sign_in_link(outbox, email, before)
        page.goto(worker.base + link)
        page.click("#sign-in")  # the link's page asks; only the button signs in
        page.wait_for_url("**/review")
        page.click(f"#queue a[href='/review/{sid}']")
        # The analysis, in the member's language (French), with the proposed tasks.
        analysis = page.inner_text("#analysis")
        assert "Analyse de la situation" in analysis
        assert "Quartier Nord" in analysis
        assert "Racist assault (racist-assault v2)" in analysis
        page.check("input[name=decision][value=approve]")
        page.click("#vote button[type=submit]")
        assert "Votre vote (approuver) est enregistré." in page.inner_text("[role=status]")
        review = review_of(
            worker, tokens["coordinator"], sid, lambda b: b["approvals"] == ["panel-community"]
        )
        assert review["votes"][0]["via"] == "web"
        page.reload()
        assert "Aïcha Ndiaye" in page.inner_text("#votes")  # by name
        # A rejection without a reason is refused on the page, with the reason.
        page.check("input[name=decision][value=reject]")
        page.click("#vote button[type=submit]")
        assert "needs a reason" in page.inner_text("[role=alert]")
        # The sign-in link worked once.
        page.goto(worker.base + link)
        assert "already been used" in page.inner_text("[role=status]")


def test_sign_in_links_are_limited_per_person_and_do_not_reveal_who_is_known(
    worker: Worker, outbox: Outbox
) -> None:
    def ask(email: str) -> tuple[int, str]:
        status, page = WebClient(worker.base).ask_link(email, "/review")
        # Each form carries its own anti-forgery token: compare the answers without it.
        return status, re.sub(r'name="csrf" value="[^"]+"', "", page)

    lotte = "duty@jeugd.concordia.example"
    answers = [ask(lotte) for _ in range(4)] + [ask("nobody@nowhere.example")]
    # Known, throttled or unknown: the same answer.
    assert len(set(answers)) == 1
    assert answers[0][0] == 200
    assert "sign-in link is on its way" in answers[0][1]

    def links(o: Outbox) -> list[Any]:
        return [m for m in o.emails() if m.rcpt_to == [lotte] and "Sign-in" in m.subject]

    # The fourth was refused (and audited) before its answer went out: three is final.
    wait_until(lambda: audit_entries(worker, "youth-duty", "session.link_throttled"))
    assert len(outbox.wait_for(lambda o: len(links(o)) == 3 and links(o))) == 3
    assert not [m for m in outbox.emails() if m.rcpt_to == ["nobody@nowhere.example"]]


def test_coordinator_splits_merges_and_closes_situations(
    worker: Worker, tokens: dict[str, str]
) -> None:
    assault = make_signal(category="hate_crime", severity=2, area="centre")
    at = datetime.fromisoformat(str(assault["occurred_at"]))
    rumour = make_signal(
        category="rumour",
        kind="tension",
        severity=1,
        area="centre",
        occurred_at=(at + timedelta(hours=1)).isoformat(),
    )
    housing = make_signal(
        category="discrimination",
        severity=2,
        area="centre",
        occurred_at=(at + timedelta(hours=2)).isoformat(),
    )
    coordinator = tokens["coordinator"]
    sid, rid, hid = (situation_id(str(s["id"]), "centre") for s in (assault, rumour, housing))
    for s in (assault, rumour, housing):
        post_signal(worker, tokens, s)

        # One at a time, so the situations are named after the signals we expect.
        def arrived(s: dict[str, Any] = s) -> bool:
            return any(
                r["id"] == s["id"]
                for x in worker.request("GET", "/api/situations", token=coordinator).body
                for r in x["signals"]
            )

        wait_until(arrived)
    # The housing refusal is not part of the assault's situation.
    assert [r["id"] for r in situation(worker, coordinator, sid)["signals"]] == [
        assault["id"],
        rumour["id"],
    ]
    assert situation(worker, coordinator, hid)["categories"] == ["discrimination"]

    def change(target: str, action: str, **body: Any) -> Any:
        return worker.request("POST", f"/api/situations/{target}/{action}", body, token=coordinator)

    assert change(sid, "state", to="flying").body["errors"][0]["loc"] == "to"
    assert change(sid, "split", signals=["nope"]).status == 422
    assert change(sid, "merge", other="sit-nope").status == 422
    assert change(sid, "split", signals=[rumour["id"]], reason="unrelated rumour").status == 202
    split = wait_until(
        lambda: (
            (r := worker.request("GET", f"/api/situations/{rid}", token=coordinator)).status == 200
            and r.body
        )
    )
    assert split["split_from"] == sid
    wait_until(lambda: len(situation(worker, coordinator, sid)["signals"]) == 1)
    assert change(sid, "merge", other=rid, reason="same group after all").status == 202
    wait_until(lambda: situation(worker, coordinator, rid)["state"] == "closed")
    assert situation(worker, coordinator, rid)["merged_into"] == sid
    wait_until(lambda: len(situation(worker, coordinator, sid)["signals"]) == 2)
    assert change(hid, "state", to="closed", reason="handled by housing").status == 202
    wait_until(lambda: situation(worker, coordinator, hid)["state"] == "closed")
    r = change(hid, "state", to="open")
    assert r.status == 409
    assert "is closed: it cannot become open" in r.body["error"]
    assert change(sid, "state", to="closed").status == 202
    wait_until(lambda: situation(worker, coordinator, sid)["state"] == "closed")
    # Its open tasks are cancelled with it.
    wait_until(
        lambda: (
            (ts := situation(worker, coordinator, sid)["tasks"])
            and {x["state"] for x in ts} == {"cancelled"}
        )
    )
    assert (
        worker.request(
            "POST", f"/api/situations/{sid}/state", {"to": "closed"}, token=tokens["producer"]
        ).status
        == 403
    )


def test_the_time_limit_survives_a_worker_restart(
    smtp_server: Any, slack_server: Any, outbox: Outbox, tmp_path: Any
) -> None:
    from tests.conftest import private_worker, restart

    playbook = URGENT_PLAYBOOK.replace("time_limit: 2s", "time_limit: 15s")
    with private_worker(
        smtp_server, slack_server, tmp_path / "restart", {"time-limit-test.yml": playbook}
    ) as (w, producer):
        signal = make_signal(
            kind="tension", category="other", severity=2, area="north", tags=["time-limit-test"]
        )
        sid = situation_id(str(signal["id"]), "north")
        assert w.request("POST", "/api/signals", signal, token=producer).status == 202
        outbox.wait_for(lambda o: panel_notices(o, sid))  # the review is open
        # The deadline (15 s away) lives only in the table's changelog once this one stops.
        restart(w)
        urgent = task_of(signal, "time-limit-test", "protect")
        outbox.wait_for(lambda o: slack_for(o, urgent), timeout=60)
        assert len(slack_for(outbox, urgent)) == 1
        assert not slack_for(outbox, task_of(signal, "time-limit-test", "later"))


def test_a_signal_in_a_neighbouring_area_joins_the_situation(
    worker: Worker, tokens: dict[str, str]
) -> None:
    first = make_signal(category="vandalism", severity=2, area="south", bias=["anti_asian"])
    at = datetime.fromisoformat(str(first["occurred_at"])) + timedelta(hours=3)
    second = make_signal(
        category="hate_speech",
        kind="tension",
        severity=2,
        area="centre",
        occurred_at=at.isoformat(),
        bias=["anti_asian"],
    )
    sid = situation_id(str(first["id"]), "south")
    coordinator = tokens["coordinator"]
    post_signal(worker, tokens, first)
    wait_until(
        lambda: worker.request("GET", f"/api/situations/{sid}", token=coordinator).status == 200
    )
    post_signal(worker, tokens, second)
    body = wait_until(
        lambda: (b := situation(worker, coordinator, sid)) and len(b["signals"]) == 2 and b
    )
    assert body["area"] == "south"
    assert body["areas"] == ["south", "centre"]
    assert [r["area"] for r in body["signals"]] == ["south", "centre"]


def test_a_burst_of_joins_reaches_the_panel_as_one_notice_once_the_interval_passes(
    request: pytest.FixtureRequest, outbox: Outbox
) -> None:
    # A worker of its own: the session's tells the panel at most every 300 s.
    with worker_of_its_own(request, "amend", panel_amend_interval_seconds="8") as (w, producer):
        made = w.cli("token", "create", "burst-coordinator", "--role", "coordinator")
        coordinator = made.stdout.decode().strip()
        wait_until(lambda: w.request("GET", "/api/tasks", token=coordinator).status == 200)
        first = make_signal(category="hate_crime", severity=4, area="centre", bias=["anti_roma"])
        sid = situation_id(str(first["id"]), "centre")
        post_signal(w, {"producer": producer}, first)
        review_of(w, coordinator, sid)
        at = datetime.fromisoformat(str(first["occurred_at"]))
        burst = [
            make_signal(
                category="hate_crime",
                severity=4,
                area="centre",
                bias=["anti_roma"],
                occurred_at=(at + timedelta(minutes=i)).isoformat(),
            )
            for i in range(1, 7)
        ]
        for signal in burst:  # one report at a time, as residents send them
            post_signal(w, {"producer": producer}, signal)
        # Six joins, one version the panel has not been told of yet.
        held = review_of(
            w,
            coordinator,
            sid,
            lambda b: b["version"] == 2 and len(b["versions"][1]["changes"]) == 6,
        )
        assert [v["version"] for v in held["versions"]] == [1, 2]
        assert held["told"] == 1
        assert held["tell_at"] is not None
        assert {c.split()[1] for c in held["versions"][1]["changes"]} == {s["id"] for s in burst}
        # When the interval has passed, each member hears of version 2 once.
        mails = outbox.wait_for(
            lambda o: len(panel_emails(o, sid, "amended")) == 3 and panel_emails(o, sid, "amended"),
            timeout=30,
        )
        # The first five changes, then the rest counted (the review page lists them).
        changes = held["versions"][1]["changes"]
        for m in mails:
            assert "version 2" in m.text or "versie 2" in m.text
            assert changes[0] in m.text
            assert changes[5] not in m.text
        told = review_of(w, coordinator, sid, lambda b: b["told"] == 2)
        assert told["tell_at"] is None  # nothing more for the timer to tell
        assert len(panel_notices(outbox, sid, "amended")) == 1
