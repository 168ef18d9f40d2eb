"""The board, my tasks, the report form, the indicators and the audit log, as people use
them: headless Chromium (Debian's) against a real worker on the real broker."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from typing import Any

import pytest

from concord.embedded.outbox import Outbox
from tests.conftest import Worker, make_signal, wait_until
from tests.integration.helpers import browser_sign_in, task_of

pytestmark = pytest.mark.integration

#: Who signs in here (each once: sign-in links are limited to 3 per person per 15 min).
PEOPLE = {
    "coordinator": ("coordination@concordia.example", "/board"),
    "liaison": ("duty@police.concordia.example", "/tasks"),
    "panel": ("ana@uni.concordia.example", "/review"),
    "panel_nl": ("koen@mediation.concordia.example", "/review"),  # reads Dutch
}


@pytest.fixture(scope="module")
def sessions(worker: Worker, outbox: Outbox, browser: Any) -> dict[str, list[Any]]:
    """Each person signs in from the form in a browser and lands on their own page; their
    cookies are kept for the other tests."""
    kept: dict[str, list[Any]] = {}
    for role, (email, landing) in PEOPLE.items():
        kept[role] = browser_sign_in(browser, worker, outbox, email, landing)
    return kept


def open_as(browser: Any, sessions: dict[str, list[Any]], role: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="en-GB")
    context.add_cookies(sessions[role])
    return context, context.new_page()


def post(worker: Worker, tokens: dict[str, str], signal: dict[str, Any]) -> None:
    r = worker.request("POST", "/api/signals", signal, token=tokens["producer"])
    assert r.status == 202, r.body


def vandalism() -> dict[str, Any]:
    """A signal whose playbook gives the police a task at once (no panel)."""
    return make_signal(category="vandalism", bias=["antisemitic"], severity=3, area="centre")


def test_sign_in_lands_each_role_on_its_page(sessions: dict[str, list[Any]]) -> None:
    assert set(sessions) == set(PEOPLE)  # the fixture asserted each landing
    assert all(any(c["name"] == "concord_session" for c in cs) for cs in sessions.values())


def test_the_board_updates_live_when_a_liaison_acknowledges(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    context, page = open_as(browser, sessions, "coordinator")
    try:
        page.goto(worker.base + "/board?area=centre")
        assert page.locator("html").get_attribute("lang") == "fr"  # the coordinator's
        # A locator, not `wait_for_function`: when its first look fails, Playwright polls
        # a string predicate through eval(), which the page's CSP refuses (no
        # 'unsafe-eval'), and the test failed whenever the stream connected late.
        page.locator("#live-status", has_text="direct").wait_for()
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        signal = vandalism()
        post(worker, tokens, signal)
        task = task_of(signal, "place-of-worship-vandalism", "police-report")
        cell = page.locator(f"#t-{task} td[data-state]")
        cell.wait_for(timeout=20_000)  # the new situation and its task appear by themselves
        wait_until(lambda: cell.get_attribute("data-state") == "assigned", timeout=20)
        r = worker.request("POST", f"/api/tasks/{task}/ack", {}, token=tokens["liaison"])
        assert r.status == 202, r.body
        wait_until(lambda: cell.get_attribute("data-state") == "acknowledged", timeout=20)
        assert page.evaluate("window.__sameDocument") is True
        assert "prise en charge" in cell.inner_text()
    finally:
        context.close()


def test_the_coordinator_closes_a_situation_from_the_board(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    signal = vandalism()
    post(worker, tokens, signal)
    task = task_of(signal, "place-of-worship-vandalism", "community-contact")
    sid = wait_until(
        lambda: next(
            (
                x["situation_id"]
                for x in worker.request("GET", "/api/tasks", token=tokens["coordinator"]).body
                if x["id"] == task
            ),
            None,
        )
    )
    context, page = open_as(browser, sessions, "coordinator")
    try:
        page.goto(f"{worker.base}/board/{sid}")
        page.fill("form.act:has(#do-state) input[name=reason]", "handled by the community")
        page.click("#do-state")
        page.wait_for_url(re.compile(r"\?done=state"))
        wait_until(
            lambda: (
                worker.request("GET", f"/api/situations/{sid}", token=tokens["coordinator"]).body[
                    "state"
                ]
                == "closed"
            )
        )
        page.goto(f"{worker.base}/board/{sid}")
        assert page.locator("#state").get_attribute("data-state") == "closed"
        wait_until(
            lambda: page.reload() and "handled by the community" in page.inner_text(".timeline")
        )
    finally:
        context.close()


def test_a_liaison_acts_from_my_tasks(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    signal = vandalism()
    post(worker, tokens, signal)
    task = task_of(signal, "place-of-worship-vandalism", "police-report")
    wait_until(
        lambda: (
            (t := worker.request("GET", "/api/tasks?agency=police", token=tokens["coordinator"]))
            and any(x["id"] == task and x["state"] == "assigned" for x in t.body)
        )
    )
    context, page = open_as(browser, sessions, "liaison")
    try:
        page.goto(worker.base + "/tasks")
        card = page.locator(f"#t-{task}")
        assert "Acter l'infraction" in card.inner_text()  # Claire reads French
        card.locator("button[value=decline]").click()  # no reason: refused, nothing sent
        assert page.locator("[role=alert]").count() == 1
        card = page.locator(f"#t-{task}")
        card.locator("button[value=ack]").click()
        page.wait_for_url(re.compile(r"/tasks\?done=acknowledged"))
        assert "Enregistré" in page.inner_text("[role=status]")
        wait_until(
            lambda: (
                worker.request("GET", "/api/tasks?agency=police", token=tokens["coordinator"]).body
                and any(
                    x["id"] == task and x["state"] == "acknowledged"
                    for x in worker.request(
                        "GET", "/api/tasks?agency=police", token=tokens["coordinator"]
                    ).body
                )
            )
        )
    finally:
        context.close()


def test_the_report_form_speaks_plainly_keeps_what_was_typed_and_redirects(
    worker: Worker, browser: Any
) -> None:
    """In French: each mistake next to its field in plain words, what was typed kept; once
    sent, a redirect to the receipt, so a reload never sends the report twice."""
    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        page.goto(worker.base + "/report?lang=fr")
        page.fill("#f-summary", "Insultes à l'arrêt du tram.")
        page.fill("#f-occurred_at", "2099-01-01T10:00")  # in the future
        page.click("#report button[type=submit]")
        assert page.locator("#err-category").inner_text() == "Choisissez ce qui s’est passé."
        assert page.locator("#err-area").inner_text() == "Choisissez le quartier dans la liste."
        assert page.locator("#err-reporter_role").inner_text() == (
            "Choisissez qui fait le signalement."
        )
        assert "ne peuvent pas être dans le futur" in page.inner_text("#err-occurred_at")
        assert page.input_value("#f-summary") == "Insultes à l'arrêt du tram."
        main = page.inner_text("main")
        for developer in ("Input should", "String should", "pattern", "Field required"):
            assert developer not in main
        page.check("input[name=category][value=harassment]")
        page.select_option("#f-area", "centre")
        page.fill("#f-occurred_at", "2026-11-30T08:15")
        page.check("input[name=reporter_role][value=witness]")
        page.click("#report button[type=submit]")
        receipt = page.locator("#receipt").inner_text()
        assert re.search(rf"/report/{receipt}\?lang=fr&sent=", page.url), page.url
        assert "Merci" in page.inner_text("h1")
        sent = len(posts)
        page.reload()
        assert page.locator("#receipt").inner_text() == receipt
        assert len(posts) == sent == 2
    finally:
        context.close()


def test_a_public_report_goes_from_the_form_to_the_board(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    context = browser.new_context(locale="nl-BE")
    page = context.new_page()
    try:
        page.goto(worker.base + "/report")
        assert page.locator("html").get_attribute("lang") == "nl"  # from Accept-Language
        page.check("input[name=category][value=harassment]")
        page.check("input[name=bias][value=anti_muslim]")
        page.fill("#f-summary", "Elke ochtend uitgescholden aan de bushalte.")
        page.select_option("#f-area", "south")
        page.fill("#f-occurred_at", "2026-11-30T08:15")
        page.check("input[name=reporter_role][value=victim]")
        page.click("#report button[type=submit]")
        receipt = page.locator("#receipt").inner_text()
        assert re.fullmatch(r"[2-9a-z]{12}", receipt), receipt
        page.click(f"a[href^='/report/{receipt}']")
        wait_until(
            lambda: (
                page.reload()
                and page.locator("#status").get_attribute("data-status") == "being_handled"
            ),
            timeout=30,
        )
        assert "In behandeling" in page.inner_text("#status")
    finally:
        context.close()
    coordinator = tokens["coordinator"]
    found = wait_until(
        lambda: next(
            (
                s
                for s in worker.request("GET", "/api/situations", token=coordinator).body
                if f"report-{receipt}" in {ref["id"] for ref in s["signals"]}
            ),
            None,
        )
    )
    context, page = open_as(browser, sessions, "coordinator")
    try:
        page.goto(worker.base + "/board?area=south")
        assert page.locator(f"#s-{found['id']}").count() == 1
    finally:
        context.close()


def test_the_indicators_csv_for_a_script(worker: Worker, tokens: dict[str, str]) -> None:
    for _ in range(5):
        post(worker, tokens, make_signal(category="discrimination", severity=2, area="south"))
    req = urllib.request.Request(
        worker.base + "/indicators?format=csv",
        headers={"Authorization": f"Bearer {tokens['operator']}"},
    )

    def table() -> dict[tuple[str, str], str]:
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert resp.headers["Content-Type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(resp.read().decode())))
        assert rows[0] == ["indicator", "dimension", "value"]
        return {(name, dim): value for name, dim, value in rows[1:]}

    found = wait_until(
        lambda: (t := table()).get(("incidents_by_category", "discrimination"), "<5") != "<5" and t
    )
    low, high = found[("incidents_by_category", "discrimination")].split("-")
    assert int(low) >= 5
    assert int(high) == int(low) + 4
    assert int(low) % 5 == 0
    counts = [v for (name, _), v in found.items() if name.startswith("incidents")]
    # 0, <5 or a band of five: no exact count ever leaves, small or not.
    assert all(re.fullmatch(r"0|<5|\d*[05]-\d*[49]", v) for v in counts), counts


#: Every role the matrix tries.
ROLES = ("anonymous", "producer", "liaison_a", "liaison_b", "panel", "coordinator", "operator")


def test_the_odihr_export_for_a_script(worker: Worker, tokens: dict[str, str]) -> None:
    attack = make_signal(category="vandalism", bias=["anti_roma"], severity=3, area="south")
    post(worker, tokens, attack)
    year = str(attack["occurred_at"])[:4]

    def rows(query: str) -> list[list[str]]:
        req = urllib.request.Request(
            worker.base + f"/indicators/odihr.csv{query}",
            headers={"Authorization": f"Bearer {tokens['panel']}"},
        )
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert resp.headers["Content-Type"].startswith("text/csv")
            return list(csv.reader(io.StringIO(resp.read().decode())))

    wanted = [year, "Bias against Roma and Sinti", "Attacks against property"]
    found = wait_until(lambda: [r for r in rows(f"?year={year}") if r[:3] == wanted])
    assert re.fullmatch(r"<5|\d*[05]-\d*[49]", found[0][3]), found  # never an exact count
    assert rows(f"?year={year}")[0] == ["year", "bias_motivation", "incident_type", "incidents"]
    bad = worker.request("GET", "/indicators/odihr.csv?year=1999", token=tokens["panel"])
    assert (bad.status, bad.body["field"]) == (400, "year")
    # The CLI asks the same rules, from the situations on the broker: the same rows.
    printed = worker.cli("indicators", "export", "--odihr", "--year", year)
    assert printed.returncode == 0, printed.stderr.decode()
    by_cli = list(csv.reader(io.StringIO(printed.stdout.decode())))
    assert [r for r in by_cli if r[:3] == wanted] == [
        r for r in rows(f"?year={year}") if r[:3] == wanted
    ]


BOARD = {"panel", "coordinator", "operator"}


def matrix_routes(task: str, situation: str) -> list[tuple[str, str, set[str]]]:
    """(method, path, the roles it is open to). A POST carries an empty body: for a role
    it is open to, that is a 4xx about the body (422, 409), never 401/403/404."""
    everyone = set(ROLES)
    return [
        ("GET", "/board", BOARD),
        ("GET", f"/board/{situation}", BOARD),
        ("GET", "/indicators", BOARD),
        ("GET", "/indicators?format=csv", BOARD),
        ("GET", "/indicators/chart/month.svg", BOARD),
        ("GET", "/indicators/odihr.csv", BOARD),
        ("GET", f"/api/situations/{situation}/cap", BOARD),
        ("GET", "/audit", {"coordinator", "operator"}),
        ("GET", "/tasks", {"liaison_a", "liaison_b", "coordinator"}),
        ("GET", f"/tasks/{task}", {"liaison_a", "coordinator"}),
        ("GET", "/review", {"panel", "coordinator"}),
        ("GET", "/api/situations", BOARD),
        ("GET", f"/api/situations/{situation}", BOARD),
        ("GET", "/api/tasks", {"liaison_a", "liaison_b", "coordinator", "operator"}),
        ("GET", "/api/reviews", {"panel", "coordinator"}),
        ("GET", f"/api/tasks/{task}/persons", {"liaison_a", "coordinator"}),
        ("GET", "/report", everyone),
        ("GET", "/login", everyone),
        ("GET", "/healthz", everyone),
        ("POST", "/api/signals", {"producer", "coordinator", "operator"}),
        ("POST", f"/api/tasks/{task}/ack", {"liaison_a", "coordinator"}),
        ("POST", f"/api/situations/{situation}/state", {"coordinator"}),
    ]


def call(worker: Worker, method: str, path: str, cookie: str | None, token: str | None) -> int:
    data = b"" if method == "POST" else None
    req = urllib.request.Request(worker.base + path, data=data, method=method)
    if cookie:
        req.add_header("Cookie", cookie)
    if token:
        req.add_header("Authorization", f"Bearer {token}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect()).open(req, timeout=15) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 303 and exc.headers.get("Location", "").startswith("/login"):
            return 303  # a page's answer to nobody: the sign-in form
        return int(exc.code)


def test_every_role_on_every_route(
    worker: Worker, tokens: dict[str, str], sessions: dict[str, list[Any]]
) -> None:
    youth = worker.cli("token", "create", "youth-duty", "--role", "liaison", "--agency", "youth")
    assert youth.returncode == 0, youth.stderr.decode()
    jar = {r: "; ".join(f"{c['name']}={c['value']}" for c in cs) for r, cs in sessions.items()}
    who: dict[str, tuple[str | None, str | None]] = {
        "anonymous": (None, None),
        "producer": (None, tokens["producer"]),
        "liaison_a": (jar["liaison"], tokens["liaison"]),
        "liaison_b": (None, youth.stdout.decode().strip()),
        "panel": (jar["panel"], tokens["panel"]),
        "coordinator": (jar["coordinator"], tokens["coordinator"]),
        "operator": (None, tokens["operator"]),
    }
    wait_until(lambda: worker.request("GET", "/api/tasks", token=who["liaison_b"][1]).status == 200)
    signal = vandalism()
    post(worker, tokens, signal)
    task = task_of(signal, "place-of-worship-vandalism", "police-report")
    wait_until(
        lambda: any(
            x["id"] == task and x["state"] == "assigned"
            for x in worker.request("GET", "/api/tasks", token=tokens["coordinator"]).body
        )
    )
    situation = worker.request("GET", "/api/tasks", token=tokens["coordinator"]).body
    sid = next(x["situation_id"] for x in situation if x["id"] == task)
    wrong: list[str] = []
    for method, path, allowed in matrix_routes(task, sid):
        for role in ROLES:
            status = call(worker, method, path, *who[role])
            refused = status in (303, 401, 403, 404)
            opened = status == 200 if method == "GET" else not refused
            if (role in allowed and not opened) or (role not in allowed and not refused):
                wrong.append(f"{method} {path} as {role}: {status}")
    assert wrong == []


def every_page(worker: Worker, tokens: dict[str, str]) -> list[tuple[str | None, str]]:
    """(who reads it, path) for every page, with a task, a situation and a report to show."""
    signal = vandalism()
    post(worker, tokens, signal)
    task = task_of(signal, "place-of-worship-vandalism", "police-report")
    tasks = wait_until(
        lambda: [
            x
            for x in worker.request("GET", "/api/tasks", token=tokens["coordinator"]).body
            if x["id"] == task and x["state"] == "assigned"
        ]
    )
    sid = tasks[0]["situation_id"]
    receipt = worker.request(
        "POST",
        "/api/reports",
        {
            "category": "rumour",
            "summary": "Messages at school.",
            "area": "north",
            "occurred_at": "2026-11-30T10:00:00+01:00",
            "reporter_role": "witness",
        },
    ).body["receipt"]
    return [
        (None, "/report"),
        (None, "/report?lang=fr"),
        (None, f"/report/{receipt}"),
        (None, "/login"),
        ("coordinator", "/board"),
        ("coordinator", f"/board/{sid}"),
        ("coordinator", "/indicators"),
        ("coordinator", "/audit"),
        ("coordinator", "/triage"),
        ("coordinator", "/review"),
        ("liaison", "/tasks"),
        ("liaison", f"/tasks/{task}"),
        ("panel", "/review"),
        ("panel", "/board"),
        ("panel_nl", "/review"),
        ("panel_nl", "/board"),
        ("panel_nl", f"/board/{sid}"),
    ]


def test_every_page_passes_axe(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    pages = every_page(worker, tokens)
    axe = Axe()
    found: list[str] = []
    for role, path in pages:
        if role is None:
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
        else:
            context, page = open_as(browser, sessions, role)
        try:
            response = page.goto(worker.base + path)
            assert response is not None, (path, response)
            assert response.status == 200, (path, response)
            results = axe.run(page)
            assert results.response["passes"], path  # axe ran its rules on the page
            for v in results.response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    found.append(f"{path} ({role}): {v['id']}: {v['help']}")
            # Keyboard: the first Tab reaches the skip link, which is visible when focused.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip", path
        finally:
            context.close()
    assert found == []


#: What must never be shown as text: ids, codes, audit actions, arrows between codes.
RAW = re.compile(
    r"\b(?:sit|task)-[0-9a-f]{12}\b"  # a situation's or task's id
    r"|\b[a-z]+(?:_[a-z]+)+\b"  # a code (hate_crime, anti_muslim, under_review)
    r"|\b(?:playbook|task|review|situation|session|delivery|signal|reports|persons|keys)"
    r"\.[a-z_]+\b"  # an audit action
    r"|\b(?:police-duty|police-chief|vs-duty|ngo-duty|panel-[a-z]+)\b"  # a person's id
)


def test_every_page_in_every_language_fits_390_px_and_shows_no_code(
    worker: Worker, tokens: dict[str, str], browser: Any, sessions: dict[str, list[Any]]
) -> None:
    """Every page, as its readers see it (the public's in fr, en, nl and de; the signed-in in
    their own language), at 1280 and 390 px wide: nothing wider than the screen, and no
    id or code where words belong."""
    found: list[str] = []
    for role, path in every_page(worker, tokens):
        langs = ["en", "fr", "nl", "de"] if role is None else [""]
        for lang, width in [(lang, w) for lang in langs for w in (1280, 390)]:
            if role is None:
                context = browser.new_context(locale="en-GB")
                page = context.new_page()
            else:
                context, page = open_as(browser, sessions, role)
            try:
                page.set_viewport_size({"width": width, "height": 800})
                sep = "&" if "?" in path else "?"
                url = path if not lang or "lang=" in path else f"{path}{sep}lang={lang}"
                response = page.goto(worker.base + url)
                assert response is not None, (url, response)
                assert response.status == 200, (url, response)
                where = f"{url} ({role or 'public'}, {width} px)"
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width:
                    found.append(f"{where}: {wide} px wide")
                if path.startswith("/audit"):
                    continue  # the record as kept: searchable by its ids and actions
                shown = page.inner_text("body")
                for raw in sorted(set(RAW.findall(shown))):
                    found.append(f"{where}: shows {raw!r}")
            finally:
                context.close()
    assert found == [], "\n".join(found)


def test_reports_are_checked_and_limited(worker: Worker) -> None:
    bad = {"category": "harassment", "summary": "", "area": "nowhere", "reporter_role": "x"}
    r = worker.request("POST", "/api/reports", bad)
    assert r.status == 422
    assert {e["loc"] for e in r.body["errors"]} >= {"summary", "reporter_role", "occurred_at"}
    r = worker.request("POST", "/api/reports", raw=b'{"category": "rumour", "category": "x"}')
    assert r.status == 422  # duplicate keys, as everywhere
    statuses = []
    for _ in range(40):
        statuses.append(worker.request("POST", "/api/reports", bad))
        if statuses[-1].status == 429:
            break
    assert statuses[-1].status == 429
    assert int(statuses[-1].headers["Retry-After"]) >= 1
