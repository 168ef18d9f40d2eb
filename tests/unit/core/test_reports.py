"""Public reports (concord.core.reports, concord.streams.reports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from concord.core.intake import validate_signal
from concord.core.refusal import Refused
from concord.core.reports import (
    idempotency_key,
    is_receipt,
    new_receipt,
    same_receipt,
    signal_id,
    status_of,
    to_signal,
)
from concord.streams.reports import ReportIn
from concord.streams.situations import SituationState
from tests.unit.factories import DIRECTORY

NOW = datetime.now(UTC)


def report(**kw: object) -> ReportIn:
    base: dict[str, object] = {
        "category": "hate_crime",
        "summary": "Spat on at the tram stop.",
        "area": "north",
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "reporter_role": "witness",
    }
    return ReportIn.model_validate(base | kw)


def test_an_anonymous_report_becomes_a_public_signal_naming_nobody() -> None:
    receipt = new_receipt()
    data = to_signal(report(place="Tram 3, Rue Haute", bias=["anti_black"]), receipt)
    signal = validate_signal(data, DIRECTORY)
    assert not isinstance(signal, Refused), signal
    assert signal.id == signal_id(receipt)
    assert is_receipt(receipt)
    assert signal.source.type == "public"
    assert signal.kind == "incident"
    assert signal.severity == 3
    assert [p.model_dump() for p in signal.persons] == [
        {"role": "witness", "name": "", "contact": "", "consent_to_share": False}
    ]
    assert signal.summary.endswith("(place: Tram 3, Rue Haute)")
    assert "public-report" in signal.tags
    assert "reporter-witness" in signal.tags


def test_an_organisation_reports_as_an_ngo_and_contact_needs_consent() -> None:
    data = to_signal(
        report(
            category="rumour",
            reporter_role="organisation",
            organisation="SOS Racisme",
            consent_to_contact=True,
            contact="desk@sos.example",
            consent_to_share=True,
        ),
        new_receipt(),
    )
    assert data["source"] == {"type": "ngo", "name": "SOS Racisme"}
    assert data["kind"] == "tension"
    assert data["severity"] == 2
    assert data["persons"] == [
        {"role": "reporter", "contact": "desk@sos.example", "consent_to_share": True}
    ]


@pytest.mark.parametrize(
    ("fields", "loc", "words"),
    [
        ({"contact": "me@x.example"}, "contact", "only with consent_to_contact"),
        ({"consent_to_contact": True}, "contact", "needs a contact"),
        ({"occurred_at": "1969-12-31T00:00:00Z"}, "occurred_at", "1970"),
        ({"occurred_at": (NOW + timedelta(days=1)).isoformat()}, "occurred_at", "future"),
        ({"reporter_role": "police"}, "reporter_role", "Input should be"),
        ({"category": "murder"}, "category", "Input should be"),
        ({"summary": ""}, "summary", "at least 1"),
        ({"consent_to_contact": "yes"}, "consent_to_contact", "valid boolean"),
    ],
)
def test_bad_reports_name_the_field(fields: dict[str, object], loc: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        report(**fields)
    errors = caught.value.errors()
    assert [".".join(map(str, e["loc"])) for e in errors] == [loc]
    assert words in errors[0]["msg"]


def test_an_unknown_area_is_refused_by_intake() -> None:
    result = validate_signal(to_signal(report(area="atlantis"), new_receipt()), DIRECTORY)
    assert isinstance(result, Refused)
    assert result.errors[0]["loc"] == "area"


def test_receipts_are_random_and_the_status_says_nothing_more(situation_factory) -> None:  # type: ignore[no-untyped-def]
    receipts = {new_receipt() for _ in range(1000)}
    assert len(receipts) == 1000
    assert all(is_receipt(r) for r in receipts)
    assert not is_receipt("../../etc")
    assert not is_receipt("0" * 12)
    sit = situation_factory()
    assert status_of(None) == "received"
    assert status_of(sit) == "being_handled"
    assert status_of(sit.model_copy(update={"state": SituationState.closed})) == "closed"


# (what the reporter sends, the field named in the refusal) — None: accepted
CHOICES: list[tuple[dict[str, object], str | None]] = [
    ({"wants": "register"}, None),
    ({"wants": "register", "consent_to_contact": True, "contact": "a@b.example"}, "wants"),
    ({"wants": "register", "refer": True}, "refer"),
    ({"wants": "act", "refer": True}, None),
    ({"wants": "later"}, "wants"),
    ({"indicators": ["language", "symbols"]}, None),
    ({"indicators": ["horoscope"]}, "indicators"),
    ({"url": "https://x.example/" + "a" * 2000}, "url"),
    ({"seen_at": (NOW + timedelta(days=1)).isoformat()}, "seen_at"),
    ({"seen_at": 1733500000}, "seen_at"),
]


@pytest.mark.parametrize(("given", "field"), CHOICES)
def test_what_the_reporter_wants_is_checked_naming_the_field(
    given: dict[str, object], field: str | None
) -> None:
    if field is None:
        report(**given)
        return
    with pytest.raises(ValidationError) as caught:
        report(**given)
    assert {str(e["loc"][0]) for e in caught.value.errors()} == {field}


def test_a_report_says_what_its_reporter_wants_and_where_it_was_seen() -> None:
    seen = (NOW - timedelta(hours=2)).isoformat()
    r = report(category="online_hate", url="https://social.example/p/1", platform="Social",
               seen_at=seen, indicators=["language"], wants="register")  # fmt: skip
    data = to_signal(r, new_receipt())
    assert (data["wants"], data["indicators"]) == ("register", ["language"])
    assert data["online"]["url"] == "https://social.example/p/1"
    signal = validate_signal(data, DIRECTORY)
    assert not isinstance(signal, Refused)
    assert signal.online is not None
    # Referred in the city's place: counted here, not acted on, whatever was asked.
    assert to_signal(report(wants="act"), new_receipt(), referred=True)["wants"] == "register"
    assert to_signal(report(), new_receipt())["online"] is None


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("a", "a"),
        ('"a"', "a"),
        ('a"b', None),
        ('""', None),
        ('"', None),
        ("", None),
        ("two words", None),
        ("tab\there", None),
        ("café", None),
        ("x" * 255, "x" * 255),
        ("x" * 256, None),
    ],
)
def test_an_idempotency_key_is_visible_ascii_bare_or_quoted(header: str, key: str | None) -> None:
    if key is None:
        with pytest.raises(ValueError, match=r"characters|quotes"):
            idempotency_key(header)
    else:
        assert idempotency_key(header) == key


SECRET = b"s" * 32


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ((SECRET, b"api", b"k1", b"{}"), (SECRET, b"api", b"k1", b"{}"), True),
        ((SECRET, b"api", b"k1", b"{}"), (SECRET, b"api", b"k2", b"{}"), False),
        ((SECRET, b"api", b"k1", b"{}"), (SECRET, b"api", b"k1", b"{ }"), False),
        ((SECRET, b"api", b"k1", b"{}"), (SECRET, b"mail", b"k1", b"{}"), False),
        ((SECRET, b"api", b"k1", b"{}"), (b"t" * 32, b"api", b"k1", b"{}"), False),
        # parts never run together
        ((SECRET, b"api", b"ab", b"c"), (SECRET, b"api", b"a", b"bc"), False),
        ((SECRET, b"api", b"k1", b"{}"), (SECRET, b"api", b"k1", b"{}", b"file"), False),
    ],
)
def test_a_report_sent_again_gets_its_receipt_again_and_only_it(
    first: tuple[bytes, ...], second: tuple[bytes, ...], same: bool
) -> None:
    a, b = same_receipt(*first), same_receipt(*second)
    assert is_receipt(a)
    assert is_receipt(b)
    assert (a == b) is same
