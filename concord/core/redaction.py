"""Redaction: what leaves Concord never names a person. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from concord.streams.signals import Person

_MIN_TOKEN = 3  # shorter name parts ("Al", "de") would blank common words


def scrub(text: str, persons: Iterable[Person]) -> str:
    """Replace every person's name, name parts and contact in `text` by `[role]`."""
    replacements: list[tuple[str, str]] = []
    for person in persons:
        label = f"[{person.role}]"
        for value in (person.name, person.contact):
            value = value.strip()
            if not value:
                continue
            replacements.append((value, label))
            if value is person.name:
                replacements.extend(
                    (part, label) for part in value.split() if len(part) >= _MIN_TOKEN
                )
    # Longest first, so "Amina Benali" goes before "Amina".
    for value, label in sorted(replacements, key=lambda r: -len(r[0])):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", label, text, flags=re.IGNORECASE)
    return text
