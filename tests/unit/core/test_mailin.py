"""Mail in (concord.core.mailin): reply addresses, what a reply says, what it does."""

from __future__ import annotations

import pytest

from concord.core import mailin
from concord.streams.tasks import TaskState
from tests.unit.factories import make_task

KEY = b"k" * 32
DOMAIN = "in.city.example"


def test_a_reply_address_is_made_for_one_person_and_fits_smtp() -> None:
    address = mailin.reply_address(KEY, "task-0123456789ab", "vs-duty", DOMAIN)
    local = address.split("@")[0]
    assert len(local) <= 64
    found = mailin.read_address(address.upper().replace(DOMAIN.upper(), DOMAIN), DOMAIN)
    assert found is not None
    assert found.task_id == "task-0123456789ab"
    assert found.issued_to(KEY, "vs-duty")
    assert not found.issued_to(KEY, "police-duty")  # someone else's reply
    assert not found.issued_to(b"x" * 32, "vs-duty")  # another installation's key


@pytest.mark.parametrize(
    "address",
    [
        "someone@in.city.example",
        "task+0123456789ab.abcdefghijklmnop@other.example",  # another domain
        "task+0123456789ab@in.city.example",  # no MAC
        "task+0123456789zz.abcdefghijklmnop@in.city.example",  # not hex
        "report+abc@in.city.example",  # not taken (yet)
        "",
    ],
)
def test_anything_else_is_not_an_address_concord_takes(address: str) -> None:
    assert mailin.read_address(address, DOMAIN) is None


# (what the liaison wrote, the action, the reason or note kept)
REPLIES: list[tuple[str, str | None, str]] = [
    ("ok", "ack", ""),
    ("OK, on it", "ack", "on it"),
    ("Reçu, je passe demain", "ack", "je passe demain"),
    ("Pris en charge.", "ack", ""),
    ("Ontvangen", "ack", ""),
    ("Erhalten!", "ack", ""),
    ("done: see report 123", "done", "see report 123"),
    ("Fait", "done", ""),
    ("gedaan", "done", ""),
    ("Erledigt — Bericht folgt", "done", "Bericht folgt"),
    ("decline: not our area", "decline", "not our area"),
    ("Refus : pas notre secteur", "decline", "pas notre secteur"),
    ("Weiger\nDit is voor de politie.", "decline", "Dit is voor de politie."),
    ("ablehnen - nicht zuständig", "decline", "nicht zuständig"),
    ("thanks, I will look tomorrow", None, "thanks, I will look tomorrow"),
    ("okapi spotted in the zoo", None, "okapi spotted in the zoo"),  # a word, not "ok"
    ("Donedeal", None, "Donedeal"),
]


@pytest.mark.parametrize(("text", "action", "rest"), REPLIES)
def test_the_first_word_says_what_a_reply_does(text: str, action: str | None, rest: str) -> None:
    reading = mailin.read_reply(text)
    assert (reading.action, reading.text) == (action, rest)


def test_quoted_history_and_signature_are_cut_off() -> None:
    body = "ok, on it\n\n-- \nNadia\n"
    assert mailin.new_text(body) == "ok, on it"
    for quote in (
        "On Sat, 6 Dec 2026 at 10:00, Concord <c@x> wrote:",
        "Le 6 déc. 2026 à 10:00, Concord a écrit :",
        "Op 6 dec. 2026 om 10:00 schreef Concord:",
        "Am 06.12.2026 um 10:00 schrieb Concord:",
        "> Offer a support referral",
        "-----Original Message-----",
        "From: Concord <c@x>",
    ):
        assert mailin.new_text(f"done\r\n\r\n{quote}\r\nok everything") == "done", quote


def test_a_reply_goes_through_the_buttons_rules() -> None:
    task = make_task(id="t1", agency="victim-support", assignee="vs-duty", state=TaskState.assigned)
    ok = mailin.decide(task, "vs-duty", "liaison", "victim-support", mailin.read_reply("ok"))
    assert ok.event is not None
    assert (ok.event.action, ok.event.actor, ok.event.via, ok.taken) == (
        "ack",
        "vs-duty",
        "email",
        True,
    )
    assert ok.state == "acknowledged"  # said in the liaison's words in the confirmation
    bare = mailin.decide(task, "vs-duty", "liaison", "victim-support", mailin.read_reply("decline"))
    assert (bare.event, bare.taken, bare.detail) == (None, False, "a decline needs a reason")
    note = mailin.decide(task, "vs-duty", "liaison", "victim-support", mailin.read_reply("thanks"))
    assert (note.event, note.note, note.taken) == (None, "thanks", True)
    done = make_task(id="t2", agency="victim-support", assignee="vs-duty", state=TaskState.done)
    again = mailin.decide(done, "vs-duty", "liaison", "victim-support", mailin.read_reply("done"))
    assert again.event is None
    assert "done" in again.detail
    other = mailin.decide(task, "police-duty", "liaison", "police", mailin.read_reply("ok"))
    assert (other.event, other.detail) == (None, "the task is no longer yours")


def test_a_partner_address_is_refused_once_revoked_or_rotated() -> None:
    from concord.config.partners import Partner

    sos = Partner(id="sos", name="SOS", type="ngo")
    address = mailin.partner_address(KEY, sos, DOMAIN)
    assert len(address.split("@")[0]) <= 64
    found = mailin.read_report_address(address, DOMAIN)
    assert found is not None
    assert found.valid_for(KEY, sos)
    assert not found.valid_for(KEY, sos.model_copy(update={"revoked": True}))
    assert not found.valid_for(KEY, sos.model_copy(update={"generation": 2}))  # rotated
    assert not found.valid_for(KEY, None)
    assert not found.valid_for(b"x" * 32, sos)
    assert mailin.read_report_address(address.replace(DOMAIN, "other.example"), DOMAIN) is None


# (the mail's text, the area, the category, what stays text)
BLOCKS: list[tuple[str, str | None, str | None, str]] = [
    ("Area: Quartier Nord\nCategory: hate speech\nInsults.", "north", "hate_speech", "Insults."),
    ("Quartier : centre-ville\nCatégorie : vandalism\nTag.", "centre", "vandalism", "Tag."),
    ("Wijk: Zuidwijk\nCategorie: hate-crime\nGeslagen.", "south", "hate_crime", "Geslagen."),
    ("Viertel: south\nEin Vorfall.", "south", None, "Ein Vorfall."),
    ("Area: Mars\nCategory: aliens\nText.", None, None, "Area: Mars\nCategory: aliens\nText."),
    ("No block at all.", None, None, "No block at all."),
]


@pytest.mark.parametrize(("text", "area", "category", "rest"), BLOCKS)
def test_the_structured_block_says_where_and_what(
    text: str, area: str | None, category: str | None, rest: str
) -> None:
    from tests.unit.factories import DIRECTORY

    got = mailin.block(text, DIRECTORY)
    assert (got.area, got.category, got.text) == (area, category, rest)
