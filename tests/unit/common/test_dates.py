"""A time in the city's zone, the reader's way (concord.common.dates): the same text as
Babel's `format_skeleton`, with the patterns found once per language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from hypothesis import given
from hypothesis import strategies as st

from concord.common import dates

BRUSSELS = ZoneInfo("Europe/Brussels")
LANGUAGES = ["en", "fr", "nl", "de", "ar", "tr", "pl", "ro", "es", "it"]

WRITTEN = [
    # the time (UTC), the language, as the reader sees it in Brussels
    (datetime(2026, 12, 5, 19, 42, tzinfo=UTC), "fr", "5 déc. 2026 20:42"),
    (datetime(2026, 12, 5, 19, 42, tzinfo=UTC), "en", "Dec 5, 2026 20:42"),
    (datetime(2026, 12, 5, 19, 42, tzinfo=UTC), "nl", "5 dec 2026 20:42"),
    (datetime(2026, 12, 5, 19, 42, tzinfo=UTC), "ar", "5 ديسمبر 2026 20:42"),
    # the night summer time starts: 01:30, then 03:30 an hour later
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "fr", "29 mars 2026 01:30"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "fr", "29 mars 2026 03:30"),
    # another zone's time is the same instant
    (datetime(2026, 12, 5, 21, 42, tzinfo=timezone(timedelta(hours=2))), "nl", "5 dec 2026 20:42"),
]


def test_a_time_is_written_in_the_city_s_zone_the_reader_s_way() -> None:
    for value, language, expected in WRITTEN:
        assert dates.written(value, BRUSSELS, language) == expected, (value, language)


def babel(value: datetime, language: str) -> str:
    local = value.astimezone(BRUSSELS)
    day = format_skeleton(dates.DAY, local, locale=language)
    return f"{day} {format_skeleton(dates.TIME, local, locale=language)}"


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    st.sampled_from(LANGUAGES),
)
def test_the_text_is_babel_s_for_any_time_and_language(value: datetime, language: str) -> None:
    assert dates.written(value, BRUSSELS, language) == babel(value, language)
