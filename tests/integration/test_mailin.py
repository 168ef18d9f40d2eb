"""Acting on a task by replying to its email, on the real broker and a real SMTP client
(smtplib) talking to the worker's inbound server: "ok" acknowledges, "decline: not our
area" declines with that reason, "thanks" is a note, a replayed reply does nothing, and
anything but a task's reply address, or a reply from someone else, is refused at RCPT."""

from __future__ import annotations

import email.policy
import io
import re
import smtplib
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from PIL import Image

from concord.embedded.net import free_port
from concord.embedded.outbox import CapturedEmail, Outbox
from concord.privacy.blobs import folder
from tests.conftest import Worker, make_signal, wait_until
from tests.integration.helpers import WebClient, audit_entries, task_of, worker_of_its_own
from tests.integration.test_hardening import situation_of

# One process for the module (`--dist loadgroup`): its tests share one worker of their own.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("mailin")]

DOMAIN = "in.concordia.test"
LIAISON = "accueil@victimes.concordia.example"  # vs-duty, victim support (by email)
COORDINATOR = "coordination@concordia.example"


@pytest.fixture(scope="module")
def mail(request: pytest.FixtureRequest) -> Iterator[tuple[Worker, dict[str, str], int]]:
    """A worker whose task emails say Reply-To, with its inbound server; tokens."""
    port = free_port()
    settings = {"inbound_port": str(port), "inbound_domain": DOMAIN, "inbound_max_bytes": "40000"}
    with worker_of_its_own(request, "mailin", **settings) as (w, producer):
        made = w.cli("token", "create", "mail-coordinator", "--role", "coordinator")
        tokens = {"producer": producer, "coordinator": made.stdout.decode().strip()}
        wait_until(
            lambda: w.request("GET", "/api/tasks", token=tokens["coordinator"]).status == 200
        )
        yield w, tokens, port


def task_email(outbox: Outbox, task: str) -> CapturedEmail:
    return outbox.wait_for(
        lambda o: next((m for m in o.emails() if m.rcpt_to == [LIAISON] and task in m.text), None)
    )


def reply(port: int, sender: str, to: str, text: str, message_id: str) -> dict[str, Any]:
    """Send a reply; the refused recipients (empty when taken)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "Re: [Concord] task"
    msg["Message-ID"] = message_id
    msg.set_content(text + "\n\nLe 6 déc. 2026, Concord a écrit :\n> Proposer une orientation\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        try:
            return dict(smtp.send_message(msg))
        except smtplib.SMTPRecipientsRefused as exc:
            return {k: v for k, v in exc.recipients.items()}


def state(worker: Worker, token: str, task: str) -> dict[str, Any] | None:
    found = worker.request("GET", "/api/tasks", token=token).body
    return next((t for t in found if t["id"] == task), None)


def test_replies_act_on_the_task_through_the_same_rules(
    mail: tuple[Worker, dict[str, str], int], outbox: Outbox
) -> None:
    worker, tokens, port = mail
    signal = make_signal(category="harassment", bias=[], severity=2, area="north")
    assert worker.request("POST", "/api/signals", signal, token=tokens["producer"]).status == 202
    task = task_of(signal, "victim-support-referral", "refer")
    sent = task_email(outbox, task)
    address = sent.headers["Reply-To"]
    assert address.startswith("task+")
    assert address.endswith(f"@{DOMAIN}")
    assert len(address.split("@")[0]) <= 64

    # Anything but a task's reply address, and a reply from someone else: refused at RCPT.
    assert reply(port, LIAISON, f"someone@{DOMAIN}", "ok", "<r0@x>")[f"someone@{DOMAIN}"][0] == 550
    forged = address.replace("task+", "task+0")[:-1]
    assert reply(port, LIAISON, forged, "ok", "<r0b@x>")[forged][0] == 550
    assert reply(port, COORDINATOR, address, "ok", "<r0c@x>")[address][0] == 550
    told = outbox.wait_for(
        lambda o: [m for m in o.emails() if m.rcpt_to == [COORDINATOR] and "refus" in m.subject]
    )
    assert task in told[0].text

    # A note: anything that is not an action is kept, never ignored.
    assert reply(port, LIAISON, address, "Merci, je regarde demain.", "<r1@x>") == {}
    noted = wait_until(lambda: audit_entries(worker, task, "task.replied"))
    assert "je regarde demain" in noted[0].details["note"]  # names taken out, as for readers
    assert noted[0].details["taken"] == "yes"

    # "ok": acknowledged, as the liaison the address was made for; a replay does nothing.
    assert reply(port, LIAISON, address, "OK, je m'en occupe", "<r2@x>") == {}
    acked = wait_until(lambda: (t := state(worker, tokens["coordinator"], task)) and t["state"] == "acknowledged" and t)  # fmt: skip
    assert acked["assignee"] == "vs-duty"
    assert reply(port, LIAISON, address, "OK, je m'en occupe", "<r2@x>") == {}

    def confirmations(o: Outbox) -> list[CapturedEmail]:
        return [m for m in o.emails() if m.rcpt_to == [LIAISON] and "réponse" in m.subject]

    outbox.wait_for(confirmations)
    wait_until(lambda: len(audit_entries(worker, task, "task.replied")) == 2)
    outbox.wait_for(  # the state in the liaison's words, and what they added
        lambda o: [m for m in o.emails() if "prise en charge : je m'en occupe" in m.text]
    )

    # "decline: not our area": declined, with that reason.
    assert reply(port, LIAISON, address, "Refus : pas notre secteur", "<r3@x>") == {}
    declined = wait_until(lambda: audit_entries(worker, task, "task.decline") or None, timeout=30)
    assert declined[0].details.get("reason") == "pas notre secteur"
    assert len(audit_entries(worker, task, "task.replied")) == 3  # the replay was not one
    # The note's and the acknowledgement's confirmations (read as they arrive: a list
    # taken when the first came may hold one).
    outbox.wait_for(lambda o: len(confirmations(o)) >= 2)


def test_a_mail_too_large_is_refused_at_data(mail: tuple[Worker, dict[str, str], int]) -> None:
    worker, _, port = mail
    address = partner_address(worker, "sos-racisme")
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = LIAISON, address, "Re: big"
    big.set_content("x" * 60_000)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail(LIAISON, [f"SIZE={len(big.as_bytes())}"])[0] == 552  # said up front
        smtp.rset()
        assert smtp.mail(LIAISON)[0] == 250  # a client that does not say its size...
        assert smtp.rcpt(address)[0] == 250
        code, _ = smtp.data(big.as_bytes(policy=email.policy.SMTP))  # ...is refused at DATA
        assert code == 552


def partner_address(worker: Worker, partner: str) -> str:
    made = worker.cli("partner", "address", partner)
    assert made.returncode == 0, made.stderr
    return made.stdout.decode().strip()


def report_mail(sender: str, to: str, text: str, photo: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = "Insultes à la sortie de l'école"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@sos.example>"
    msg.set_content(text + "\n\n-- \nSOS Racisme, permanence\n")
    if photo is not None:
        msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="IMG_9.jpg")
    msg.add_attachment(b"MZ\x90\x00" + bytes(500), maintype="application",
                       subtype="octet-stream", filename="virus.exe")  # fmt: skip
    return msg


def test_a_partners_email_with_a_photo_becomes_a_situation_and_a_receipt(
    mail: tuple[Worker, dict[str, str], int], outbox: Outbox
) -> None:
    worker, tokens, port = mail
    address = partner_address(worker, "sos-racisme")
    assert address.startswith("report+sos-racisme.1.")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (50.0, 51.0, 12.5)}
    photo = io.BytesIO()
    Image.new("RGB", (32, 24), (9, 9, 9)).save(photo, "JPEG", exif=exif.tobytes())
    text = "Area: Quartier Nord\nCategory: hate speech\nDes élèves insultés en sortant."
    sender = "permanence@sos.example"
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(report_mail(sender, address, text, photo.getvalue()))
    receipt_mail = outbox.wait_for(
        lambda o: next((m for m in o.emails() if m.rcpt_to == [sender]), None)
    )
    code = re.search(r"code de reçu est ([2-9a-z]{12})", receipt_mail.text)
    assert code is not None, receipt_mail.text
    assert "Non conservé : virus.exe n'est ni une photo" in receipt_mail.text  # left out
    signal = f"report-{code.group(1)}"
    found = wait_until(lambda: situation_of(worker, tokens["coordinator"], signal))
    assert (found["area"], found["categories"]) == ("north", ["hate_speech"])
    (stored,) = (worker.data_dir / "evidence" / folder(signal)).iterdir()  # the photo only
    assert stored.read_bytes().startswith(b"v2.")
    emailed = wait_until(lambda: audit_entries(worker, signal, "report.emailed"))
    assert emailed[0].details["refused_files"] == "1"


def sent(port: int, sender: str, msg: EmailMessage) -> str:
    """Send `msg` to its `To`; the receipt code the server's 250 names."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        smtp.rcpt(str(msg["To"]))
        code, said = smtp.data(msg.as_bytes(policy=email.policy.SMTP))
    assert code == 250, said
    return said.decode().rsplit(" ", 1)[-1]


def test_an_email_sent_again_is_the_same_report_taken_once(
    mail: tuple[Worker, dict[str, str], int],
) -> None:
    worker, tokens, port = mail
    address = partner_address(worker, "sos-racisme")
    sender = "permanence@sos.example"
    text = "Area: Quartier Nord\nCategory: hate speech\nUn graffiti devant la crèche."
    msg = report_mail(sender, address, text)
    first = sent(port, sender, msg)
    assert sent(port, sender, msg) == first  # a relay that did not hear the 250
    # The same Message-ID saying something else is another report, not lost.
    changed = report_mail(sender, address, text + " Et un autre.")
    del changed["Message-ID"]
    changed["Message-ID"] = msg["Message-ID"]
    other = sent(port, sender, changed)
    assert other != first
    found = wait_until(
        lambda: (
            (s := situation_of(worker, tokens["coordinator"], f"report-{other}"))
            and f"report-{first}" in [r["id"] for r in s["signals"]]
            and s
        )
    )
    assert [r["id"] for r in found["signals"]].count(f"report-{first}") == 1


def test_an_email_that_says_no_area_waits_in_triage_with_its_file(
    mail: tuple[Worker, dict[str, str], int], outbox: Outbox
) -> None:
    worker, tokens, port = mail
    address = partner_address(worker, "athenee-nord")
    sender = "direction@athenee.example"
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "PNG")
    msg = report_mail(sender, address, "Un tag raciste sur le mur du préau.")
    msg.add_attachment(photo.getvalue(), maintype="image", subtype="png", filename="tag.png")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)
    receipt_mail = outbox.wait_for(
        lambda o: next((m for m in o.emails() if m.rcpt_to == [sender]), None)
    )
    assert "un coordinateur le complétera" in receipt_mail.text
    code = re.search(r"code de reçu est ([2-9a-z]{12})", receipt_mail.text)
    assert code is not None
    signal = f"report-{code.group(1)}"
    waiting = worker.data_dir / "evidence" / folder(f"triage:{signal}")
    assert len(list(waiting.iterdir())) == 1  # the PNG waits, sealed
    web = WebClient(worker.base)
    web.sign_in(outbox, COORDINATOR, "/triage")
    page = wait_until(lambda: (p := web.open("/triage")[2]) and "préau" in p and p)
    action = f"/triage/{signal}"
    assert action in page
    status, landed, _ = web.open(action, {"csrf": web.csrf(page), "area": "north"})
    assert (status, landed) == (200, "/triage?placed=1")
    placed = wait_until(lambda: situation_of(worker, tokens["coordinator"], signal))
    assert placed["area"] == "north"
    (mine,) = [r for r in placed["signals"] if r["id"] == signal]
    assert mine["source_type"] == "school"  # the partner is the source
    wait_until(lambda: not waiting.exists())
    assert len(list((worker.data_dir / "evidence" / folder(signal)).iterdir())) == 1  # moved


def test_a_revoked_rotated_or_unknown_partner_address_is_refused(
    mail: tuple[Worker, dict[str, str], int],
) -> None:
    _, _, port = mail
    for address in (
        f"report+nobody.1.abcdefghijklmnop@{DOMAIN}",
        f"report+sos-racisme.2.abcdefghijklmnop@{DOMAIN}",  # a generation not in force
        f"report+sos-racisme.1.abcdefghijklmnop@{DOMAIN}",  # a guessed code
    ):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo()
            smtp.mail("x@example.org")
            assert smtp.rcpt(address)[0] == 550, address


def test_any_mail_is_answered_never_a_crash(mail: tuple[Worker, dict[str, str], int]) -> None:
    """Random and broken mail to a partner's address and to a task's: always an SMTP
    answer the sender can read (taken, refused or too large); the server keeps going."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    worker, _, port = mail
    address = partner_address(worker, "jeugdhuis-zuid")

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.binary(max_size=3000)
        | st.text(max_size=2000).map(str.encode)
        | st.sampled_from(
            [b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", b"\xff\xfe"]
        )
    )
    def probe(body: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.mail("fuzz@example.org")[0] == 250
            assert smtp.rcpt(address)[0] == 250
            code, _ = smtp.data(body.replace(b"\n.", b"\n..") + b"\r\n")
            assert code in (250, 550, 552), code

    probe()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        assert smtp.noop()[0] == 250
