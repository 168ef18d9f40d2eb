"""Redaction (concord.core.redaction): what a report's text keeps once scrubbed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.core.redaction import cut, name_like, scrub, vocabulary
from concord.core.wordlist import COMMON
from concord.streams.signals import Person

KEEP = vocabulary(["Centre-ville", "Quartier Nord", "Concordia", "Police locale"])


def test_scrub_names_parts_and_contacts() -> None:
    people = [
        Person(role="witness", name="Marie-Claire Dubois", contact="mcd@example.org"),
        Person(role="victim", name="Al Li"),
    ]
    text = "Marie-Claire Dubois (mcd@example.org) saw it; DUBOIS called. Al Li always waits."
    out = scrub(text, people)
    assert "Dubois" not in out
    assert "DUBOIS" not in out
    assert "mcd@" not in out
    assert out.count("[witness]") == 3
    assert "[victim]" in out
    assert "always" in out  # short name parts ("Al") never blank other words


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        # e-mail addresses, however dressed
        ("write to ignatius.w+x@example.org now", "write to [email] now"),
        # phone numbers in any spelling
        ("call 0471/23.45.67", "call [phone]"),
        ("call +32 471 23 45 67", "call [phone]"),
        ("call 0032 471 23 45 67", "call [phone]"),
        ("call 0471234567 or 02-555-01-01", "call [phone] or [phone]"),
        # dates, times and house numbers are not phone numbers
        ("on 05/12/2026 at 20:42, number 12", "on 05/12/2026 at 20:42, number 12"),
        ("on 2026-12-05", "on 2026-12-05"),
        # name-like words, anywhere in a sentence
        ("Ignatius Wobblebottom was hit", "[name] [name] was hit"),
        ("they hit Ignatius at the tram", "they hit [name] at the tram"),
        ("reach Jean-Luc O'Neill", "reach [name] [name]"),
        ("près de l'école d'Anvers", "près de l'école [name]"),
        # common words that start a sentence, the directory's names, acronyms: kept
        ("The tram stopped. Two men left.", "The tram stopped. Two men left."),
        ("Le bus à Centre-ville, Quartier Nord", "Le bus à Centre-ville, Quartier Nord"),
        ("DRILL: graffiti near the STIB stop", "DRILL: graffiti near the STIB stop"),
        # what a label already says stays a label
        ("[victim] was hit", "[victim] was hit"),
    ],
)
def test_scrub_table(text: str, scrubbed: str) -> None:
    assert scrub(text, [], KEEP) == scrubbed


def test_cut_keeps_what_a_recipient_needs() -> None:
    assert cut("short") == "short"
    long = cut("x" * 600, 500)
    assert len(long) == 500
    assert long.endswith("…")


_LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèöü", min_size=3, max_size=10)
# A capitalised common word ("The") is not a name: the heuristic keeps it, by design.
_NAMES = _LETTERS.map(str.capitalize).filter(lambda n: name_like(n, KEEP))
_FILLER = st.lists(
    st.sampled_from(
        ["the", "was", "hit", "at", "tram", "stop", "by", "two", "men", "le", "bus", "de", "et"]
    ),
    min_size=0,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    names=st.lists(_NAMES, min_size=1, max_size=3),
    before=_FILLER,
    after=_FILLER,
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
    style=st.sampled_from(
        [
            "+32 4{0}{1} {2}{3} {4}{5} {6}{7}",
            "04{0}{1}/{2}{3}.{4}{5}.{6}{7}",
            "00324{0}{1}{2}{3}{4}{5}{6}{7}",
            "4{0}{1} {2}{3}{4} {5}{6}{7}",
        ]
    ),
    user=_LETTERS,
    end=st.booleans(),
)
def test_no_typed_name_phone_or_email_survives(
    names: list[str],
    before: list[str],
    after: list[str],
    digits: str,
    style: str,
    user: str,
    end: bool,
) -> None:
    """Random names in random places (a sentence's start included), a phone number in
    one of several spellings, an e-mail address: none of them is left."""
    phone = style.format(*digits)
    words = [*before, *names, *after]
    text = " ".join(words) + f". Reach them at {phone} or {user}@example.org"
    if end:
        text += f" — {names[0]}"
    out = scrub(text, [], KEEP)
    for name in names:
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", out), (text, out)
    assert digits not in re.sub(r"\D", "", out), (text, out)
    assert f"{user}@" not in out


def test_common_words_are_lower_case() -> None:
    assert all(w == w.lower() for w in COMMON)
