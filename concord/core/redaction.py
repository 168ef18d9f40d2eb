"""Redaction: what a report says, cut down to what a recipient may read. Pure functions.

A report's free text is personal data until proven otherwise. `scrub` takes out what
can name someone, however the reporter typed it:

- the names (and name parts) and contacts of the signal's `persons`, as `[role]`;
- e-mail addresses, as `[email]`;
- phone numbers written any way (`+32 471 23 45 67`, `0471/23.45.67`, `0032471234567`),
  as `[phone]`;
- name-like words: a word that starts with a capital and is not a common word of the
  city's languages nor a name of the directory (an area, an agency, the city), as
  `[name]`. Capitals are how people type names; a common noun that starts a sentence
  is scrubbed too, which costs a word, never a person. Words in capitals only
  (`DRILL`, `STIB`) are taken for acronyms and kept.

The scrubbed text is sealed like the rest (`concord.core.intake.seal`): erasure removes it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from concord.core.wordlist import COMMON, ELISIONS
from concord.streams.signals import Person

_MIN_TOKEN = 3  # shorter name parts ("Al", "de") would blank common words
_PHONE_DIGITS = 6  # a contact with this many digits is a number, however it is written
_SEPARATORS = r"[\s.\-/()]*"
_NATIONAL = 9  # the digits a number keeps without its country code (`0470 12 34 56`)
#: How much of a report's text travels scrubbed: what a recipient needs to know.
SCRUBBED_LIMIT = 500

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
#: Any run of 8 or more digits with separators between them, a leading + or 00 allowed.
_ANY_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[ .\-/()]{0,2}\d){7,}(?![\w])")
#: A date or a time is not a phone number (`05/12/2026`, `2026-12-05`).
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
#: A word: letters, with inner apostrophes or hyphens (`Jean-Luc`, `O'Neill`).
_WORD = re.compile(r"(?<![\w\[])[^\W\d_]+(?:['’\-][^\W\d_]+)*(?![\w\]])")


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
        f"(?:(?:\\+|00)?{_SEPARATORS.join(country)}{_SEPARATORS}|0{_SEPARATORS})?"
        if country
        else "\\+?0?"
    )
    return prefix + spelled


def _known(text: str, persons: list[Person]) -> str:
    """The persons' names, name parts and contacts as `[role]`."""
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
    for person in persons:
        pattern = _phone(person.contact)
        if pattern:
            text = re.sub(rf"(?<![\d+]){pattern}(?!\d)", f"[{person.role}]", text)
    return text


def _phones(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        return found if _DATE.fullmatch(found) else "[phone]"

    return _ANY_PHONE.sub(one, text)


def name_like(word: str, keep: Collection[str]) -> bool:
    """Whether a word may be someone's name: it starts with a capital, is not in capitals
    only, and is neither a common word nor one of `keep` (lower-cased)."""
    # "L'école", "d'Anvers", "Qu'il": after an elided article the rest decides.
    parts = re.split(r"['’]", word, maxsplit=1)
    if len(parts) == 2 and parts[0].lower() in ELISIONS:
        return bool(parts[1]) and name_like(parts[1], keep)
    if not word[:1].isupper() or (len(word) > 1 and word.isupper()):
        return False
    lowered = word.lower()
    return lowered not in COMMON and lowered not in keep


def _names(text: str, keep: Collection[str]) -> str:
    return _WORD.sub(lambda m: "[name]" if name_like(m.group(0), keep) else m.group(0), text)


def scrub(text: str, persons: Iterable[Person], keep: Collection[str] = ()) -> str:
    """`text` with every person's name, name parts and contact as `[role]`, then any
    e-mail address, phone number and name-like word that is left (`keep`: lower-cased
    words that are not names here, such as the directory's area names)."""
    text = _known(text, list(persons))
    text = _EMAIL.sub("[email]", text)
    text = _phones(text)
    return _names(text, keep)


def cut(text: str, limit: int = SCRUBBED_LIMIT) -> str:
    """At most `limit` characters, ending with an ellipsis where it was cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def vocabulary(names: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of these names (areas, agencies, the city): not a person's."""
    return frozenset(w.lower() for name in names for w in _WORD.findall(name))
