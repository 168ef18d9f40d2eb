"""A time in the city's zone, written the reader's way (`5 déc. 2026 20:42`).

The pages, the messages and the exports say a time the same way: the day as CLDR's
`yMMMd` skeleton and the time as `Hm`, in the reader's language. Babel's
`format_skeleton` finds each skeleton's pattern again on every call (a locale parse and a
fuzzy match); a message says two or three times, so the patterns are found once per
language and applied (the same text: `tests/unit/common/test_dates.py`).
"""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo

from babel import Locale
from babel.dates import DateTimePattern, match_skeleton, parse_pattern

#: CLDR skeletons: the day (`5 déc. 2026`), the time of day (`20:42`)
DAY, TIME = "yMMMd", "Hm"


@functools.cache
def patterns(language: str) -> tuple[Locale, DateTimePattern, DateTimePattern]:
    """The locale of a language and its day and time patterns (as `format_skeleton`
    finds them)."""
    locale = Locale.parse(language)
    found = []
    for skeleton in (DAY, TIME):
        skeletons = locale.datetime_skeletons
        if skeleton not in skeletons:
            skeleton = match_skeleton(skeleton, skeletons) or skeleton
        found.append(parse_pattern(skeletons[skeleton]))
    return locale, found[0], found[1]


def written(value: datetime, zone: tzinfo, language: str) -> str:
    """`value` (aware) in `zone`, written the `language` way: day, then time."""
    local = value.astimezone(zone)
    locale, day, time = patterns(language)
    return f"{day.apply(local, locale)} {time.apply(local, locale)}"
