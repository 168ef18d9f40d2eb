"""Reports as people make them, in headless Chromium against a real worker on the real
broker: a photo whose GPS never enters Concord, a report only counted, a referral to the
competent body, and files the form refuses, each explained where the reporter sees it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from concord.core.correlation import situation_id
from concord.core.evidence import MAX_BYTES
from concord.core.planning import task_id
from concord.embedded.outbox import Outbox
from concord.privacy.blobs import folder
from concord.privacy.keys import Erased, key_id
from tests.conftest import Worker, make_signal, unique_time, wait_until
from tests.integration.helpers import (
    audit_entries,
    browser_sign_in,
    live_keys,
    sealer_of,
    worker_of_its_own,
)
from tests.integration.test_hardening import situation_of

pytestmark = pytest.mark.integration

#: The police's second liaison (the first is test_pages's): the police share what people
#: consented to share (`sharing: consented`), so a consenting victim's files show.
LIAISON = "chief@police.concordia.example"
GPS_IFD = 0x8825
#: Where a post was seen: kept as text, never fetched, never a link.
URL = "https://t.example/channel/4471?comment=12"


@pytest.fixture(scope="module")
def worker(request: pytest.FixtureRequest) -> Iterator[Worker]:
    """A worker of its own: the public's reports are limited per client address, and the
    session's worker has had its fill from this machine (test_pages checks the limit)."""
    with worker_of_its_own(request, "reports") as (w, _):
        yield w


@pytest.fixture(scope="module")
def tokens(worker: Worker) -> dict[str, str]:
    """A producer's and a coordinator's token for this module's worker."""
    made = {}
    for role in ("producer", "coordinator"):
        result = worker.cli("token", "create", f"reports-{role}", "--role", role)
        assert result.returncode == 0, result.stderr.decode()
        made[role] = result.stdout.decode().strip()
    wait_until(
        lambda: worker.request("GET", "/api/situations", token=made["coordinator"]).status == 200
    )
    return made


@pytest.fixture(scope="module")
def liaison(worker: Worker, outbox: Outbox, browser: Any) -> list[Any]:
    """The police liaison's cookies, signed in from the form."""
    return browser_sign_in(browser, worker, outbox, LIAISON, "/tasks")


def local(moment: str) -> str:
    """A UTC time as the form's datetime-local field takes it (the city's time)."""
    at = datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Brussels"))
    return at.strftime("%Y-%m-%dT%H:%M")


def phone_photo(path: Path) -> Path:
    """A photo as a phone writes it: the camera and where it was taken in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (50.0, 51.0, 12.5), 3: "E", 4: (4.0, 21.0, 3.0)}
    Image.new("RGB", (64, 48), (30, 120, 200)).save(path, "JPEG", exif=exif.tobytes())
    assert Image.open(path).getexif().get_ifd(GPS_IFD)
    return path


def fill(page: Any, category: str, area: str, when: str, summary: str, **more: Any) -> None:
    """The form's short path: what, why, what happened, where, when, who."""
    page.check(f"input[name=category][value={category}]")
    for bias in more.get("bias", []):
        page.check(f"input[name=bias][value={bias}]")
    page.fill("#f-summary", summary)
    page.select_option("#f-area", area)
    page.fill("#f-occurred_at", local(when))
    page.check(f"input[name=reporter_role][value={more.get('role', 'victim')}]")


def wait_for_status(page: Any, status: str) -> None:
    """Reload the receipt's status page until it says `status`."""
    wait_until(
        lambda: page.reload() and page.locator("#status").get_attribute("data-status") == status
    )


def test_a_photo_loses_its_gps_reaches_the_liaison_and_is_erased(
    worker: Worker, tokens: dict[str, str], browser: Any, liaison: list[Any], tmp_path: Path
) -> None:
    when = unique_time()
    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    try:
        page.goto(worker.base + "/report")
        fill(page, "vandalism", "centre", when, "Une croix gammée peinte sur la porte de la synagogue.",
             bias=["antisemitic"])  # fmt: skip
        page.click("#more summary")  # folded away: the short path stays short
        page.set_input_files("#f-files", str(phone_photo(tmp_path / "IMG_2041.jpg")))
        page.fill("#f-url", URL)
        page.fill("#f-platform", "Telegram")
        page.check("input[name=indicators][value=symbols]")
        page.check("input[name=indicators][value=location]")
        page.check("input[name=consent_to_contact]")
        page.fill("#f-contact-value", "miriam@example.org")
        page.check("input[name=consent_to_share]")
        page.click("#report button[type=submit]")
        receipt = page.locator("#receipt").inner_text()
    finally:
        context.close()
    signal = f"report-{receipt}"
    stored = worker.data_dir / "evidence" / folder(signal)
    (blob,) = stored.iterdir()
    sealed = blob.read_bytes()
    assert sealed.startswith(b"v2.")  # ciphertext only
    assert b"PhoneMaker" not in sealed
    task = task_id(situation_id(signal, "centre"), "place-of-worship-vandalism", "police-report")

    context = browser.new_context(locale="en-GB")
    context.add_cookies(liaison)
    page = context.new_page()
    try:
        wait_until(lambda: page.goto(f"{worker.base}/tasks/{task}").status == 200, timeout=60)
        wait_until(lambda: page.reload() and page.locator("ul.evidence a").count() == 1)
        assert page.locator("code.url").inner_text() == URL  # as text...
        assert page.locator(f"a[href='{URL}']").count() == 0  # ...never a link
        assert "(Telegram)" in page.inner_text("p.online")
        href = page.locator("ul.evidence a").get_attribute("href")
        assert href == f"/tasks/{task}/evidence/{blob.name}"
        got = page.request.get(worker.base + href)
        assert got.status == 200
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-type-options"] == "nosniff"
        image = Image.open(io.BytesIO(got.body()))
        assert image.size == (64, 48)
        assert not image.getexif().get_ifd(GPS_IFD)
        assert b"PhoneMaker" not in got.body()
        assert wait_until(lambda: audit_entries(worker, task, "evidence.viewed"))
        anonymous = browser.new_context().request.get(worker.base + href, max_redirects=0)
        assert anonymous.status == 303  # to the sign-in form: never the file
        assert "/login" in anonymous.headers["location"]

        erased = worker.cli("erase", signal, "--reason", "asked by the person (art. 17)")
        assert erased.returncode == 0, erased.stderr
        assert not stored.exists()  # deleted from the store...
        key = key_id(sealed.decode())
        wait_until(lambda: key not in live_keys(worker))  # its data key tombstoned
        with pytest.raises(Erased):  # ...and a copy kept elsewhere opens no more
            sealer_of(worker).open(sealed.decode(), live_keys(worker))
        wait_until(lambda: page.request.get(worker.base + href).status == 404)
    finally:
        context.close()


def test_a_report_only_registered_is_counted_and_gets_no_task(
    worker: Worker, tokens: dict[str, str], browser: Any
) -> None:
    """Harassment gets a victim-support task when acted on; registered, it only counts."""

    def incidents(category: str) -> str:
        body = worker.request("GET", "/indicators?format=csv", token=tokens["coordinator"]).body
        rows = {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(body)) if len(r) == 3}
        return rows.get(("incidents_by_category", category), "0")

    before = incidents("intergroup_conflict")
    receipts = []
    for category in ("harassment", "intergroup_conflict"):
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        try:
            page.goto(worker.base + "/report")
            fill(page, category, "north", unique_time(), "Insulted at the bus stop again.")
            page.check("input[name=wants][value=register]")
            page.click("#report button[type=submit]")
            receipts.append(page.locator("#receipt").inner_text())
            page.click("a[href^='/report/']")
            wait_for_status(page, "registered")
            assert "nobody will follow it up" in page.inner_text("#status")
        finally:
            context.close()
    registered = f"report-{receipts[0]}"
    # The same report from a producer, to be acted on: the playbook fires on it alone.
    acted = make_signal(category="harassment", bias=[], severity=2, area="north")
    assert worker.request("POST", "/api/signals", acted, token=tokens["producer"]).status == 202
    fired = wait_until(lambda: situation_of(worker, tokens["coordinator"], acted["id"]))
    assert any(
        m["playbook"] == "victim-support-referral" and m["signals"] == [acted["id"]]
        for m in fired["matches"]
    ), fired["matches"]
    held = wait_until(lambda: situation_of(worker, tokens["coordinator"], registered))
    for m in held["matches"]:
        assert registered not in m["signals"] + m["repeats"], m
    assert not [t for t in worker.request("GET", "/api/tasks", token=tokens["coordinator"]).body
                if t["situation_id"] == held["id"] and registered in t.get("signals", [])]  # fmt: skip
    wait_until(lambda: situation_of(worker, tokens["coordinator"], f"report-{receipts[1]}"))
    assert before == "0"
    assert incidents("intergroup_conflict") == "<5"


def test_a_referral_is_shown_on_the_receipt_and_reaches_the_body(
    worker: Worker, tokens: dict[str, str], browser: Any, outbox: Outbox
) -> None:
    """Discrimination in the south is the labour inspectorate's (exclusive, in the example
    directory): the reporter is told in their language, the body gets a link."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(locale="nl-BE")
    page = context.new_page()
    try:
        page.goto(worker.base + "/report")
        fill(page, "discrimination", "south", unique_time(),
             "De werkgever zei dat hij geen mensen met mijn naam aanneemt.")  # fmt: skip
        page.click("#report button[type=submit]")
        receipt = page.locator("#receipt").inner_text()
        assert page.inner_text("#handler") == (
            "Uw melding is doorgegeven aan de gewestelijke Arbeidsinspectie, die ervoor "
            "bevoegd is en ze zal behandelen."
        )
        page.click("a[href^='/report/']")
        wait_until(
            lambda: (
                page.reload() and page.locator("#status").get_attribute("data-status") == "referred"
            )
        )
        assert "Arbeidsinspectie" in page.inner_text("#handler")
    finally:
        context.close()
    signal = f"report-{receipt}"
    assert wait_until(lambda: audit_entries(worker, signal, "report.referred"))
    mail = wait_until(
        lambda: next(
            (
                m
                for m in outbox.emails()
                if m.rcpt_to == ["signalements@travail.region.example"] and "/referrals/" in m.text
            ),
            None,
        )
    )
    assert "werkgever" not in mail.text  # no report text
    link = re.search(r"/referrals/\S+", mail.text)
    assert link is not None, mail.text
    url = worker.base + link.group(0)
    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    try:
        assert page.goto(url).status == 200
        assert page.locator("h1").inner_text().startswith("Un signalement transmis à")
        assert "werkgever" in page.inner_text("pre.analysis")
        assert page.locator(".contact").count() == 0  # no consent: redacted
        violations = Axe().run(page).response["violations"]
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
        assert page.goto(url[:-3] + "xyz").status == 404  # a forged link
    finally:
        context.close()
    assert wait_until(lambda: audit_entries(worker, signal, "referral.viewed"))
    held = wait_until(lambda: situation_of(worker, tokens["coordinator"], signal))
    assert all(signal not in m["signals"] for m in held["matches"])  # the city only counts it


def test_a_file_too_large_or_of_another_type_is_explained_on_the_form(
    worker: Worker, browser: Any, tmp_path: Path
) -> None:
    big = tmp_path / "scan-du-bail.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * MAX_BYTES)
    program = tmp_path / "capture.png"
    program.write_bytes(b"MZ\x90\x00\x03" + bytes(4000))
    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    try:
        for path, status, says in (
            (big, 413, "scan-du-bail.pdf dépasse 10 Mo"),
            (program, 415, "capture.png n'est ni une photo"),
        ):
            page.goto(worker.base + "/report")
            fill(page, "discrimination", "north", unique_time(), "Refus de location.")
            page.click("#more summary")
            page.set_input_files("#f-files", str(path))
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.click("#report button[type=submit]")
            assert answer.value.status == status
            assert says in page.inner_text("#err-files")
            assert page.locator("#more").get_attribute("open") is not None
            assert page.input_value("#f-summary") == "Refus de location."  # kept
            assert "choisissez à nouveau" in page.inner_text(".err[role=alert]").lower()
    finally:
        context.close()


def test_the_form_with_everything_unfolded_passes_axe_and_fits_a_phone(
    worker: Worker, browser: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    found: list[str] = []
    for lang in ("en", "fr", "nl", "de"):
        context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 800})
        page = context.new_page()
        try:
            page.goto(f"{worker.base}/report?lang={lang}")
            page.click("#more summary")
            assert page.locator("#f-url").is_visible()
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > 390:
                found.append(f"{lang}: {wide} px wide")
            for v in Axe().run(page).response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    found.append(f"{lang}: {v['id']}: {v['help']}")
        finally:
            context.close()
    assert found == []
