"""Redaction (concord.core.redaction): names and contacts scrubbed from summaries."""

from __future__ import annotations

from concord.core.redaction import scrub
from concord.streams.signals import Person


def test_scrub_names_parts_and_contacts() -> None:
    people = [
        Person(role="witness", name="Marie-Claire Dubois", contact="mcd@example.org"),
        Person(role="victim", name="Al Li"),
    ]
    text = "Marie-Claire Dubois (mcd@example.org) saw it; DUBOIS called. Al Li, Albert's friend."
    out = scrub(text, people)
    assert "Dubois" not in out and "DUBOIS" not in out and "mcd@" not in out
    assert "[victim]" in out
    assert "Albert" in out  # short name parts ("Al") never blank other words
