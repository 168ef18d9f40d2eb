"""Redaction: what leaves Concord never names a person. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from concord.streams.signals import Person

_MIN_TOKEN = 3  # shorter name parts ("Al", "de") would blank common words
_PHONE_DIGITS = 6  # a contact with this many digits is a number, however it is written
_SEPARATORS = r"[\s.\-/()]*"


_NATIONAL = 9  # the digits a number keeps without its country code (`0470 12 34 56`)


def _phone(contact: str) -> str | None:
    """A pattern for a phone number written any way (`+32 470 12 34 56`, `+32470123456`,
    `+32.470.12.34.56`, `0470/12.34.56`): its digits in order, with separators or none
    between them, the country code or a leading 0 or neither."""
    digits = re.sub(r"\D", "", contact)
    if len(digits) < _PHONE_DIGITS or "@" in contact:
        return None
    local = digits[-_NATIONAL:]
    country = digits[: -len(local)]
    spelled = _SEPARATORS.join(local)
    prefix = (
        f"(?:\\+?{_SEPARATORS.join(country)}{_SEPARATORS}|0{_SEPARATORS})?" if country else "\\+?0?"
    )
    return prefix + spelled


def scrub(text: str, persons: Iterable[Person]) -> str:
    """Replace every person's name, name parts and contact in `text` by `[role]`."""
    replacements: list[tuple[str, str]] = []
    persons_list = list(persons)
    for person in persons_list:
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
    for person in persons_list:
        pattern = _phone(person.contact)
        if pattern:
            text = re.sub(rf"(?<![\d+]){pattern}(?!\d)", f"[{person.role}]", text)
    return text
