"""What a producer may send (concord.streams.signals.SignalIn): strict where a mistake would
change meaning, bounded everywhere, times in a sane window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from concord.streams.signals import SignalIn


def signal(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "ngo-2026-001",
        "kind": "incident",
        "category": "hate_crime",
        "bias": ["anti_black"],
        "severity": 4,
        "occurred_at": "2026-01-05T10:00:00Z",
        "area": "north",
        "source": {"type": "ngo", "name": "SOS"},
        "summary": "Insulted at the tram stop.",
    }
    base.update(kw)
    return base


def errors(**kw: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        SignalIn.model_validate(signal(**kw))
    return {".".join(map(str, e["loc"])): e["msg"] for e in info.value.errors()}


def test_a_plain_signal_is_valid() -> None:
    assert SignalIn.model_validate(signal()).severity == 4


@pytest.mark.parametrize("value", ["5", 5.0, True, None])
def test_severity_must_be_an_integer(value: object) -> None:
    assert "severity" in errors(severity=value)


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_exercise_and_consent_must_be_booleans(value: object) -> None:
    assert "exercise" in errors(exercise=value)
    persons = [{"role": "victim", "consent_to_share": value}]
    assert "persons.0.consent_to_share" in errors(persons=persons)


def test_occurred_at_lies_between_1970_and_five_minutes_from_now() -> None:
    assert errors(occurred_at="0001-01-01T00:00:00Z")["occurred_at"].endswith("before 1970-01-01")
    assert "future" in errors(occurred_at="9999-12-31T23:59:59Z")["occurred_at"]
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    assert SignalIn.model_validate(signal(occurred_at=soon))
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    assert "future" in errors(occurred_at=later)["occurred_at"]
    assert "occurred_at" in errors(occurred_at="2026-01-05T10:00:00")  # no time zone


def test_every_list_and_string_is_bounded() -> None:
    assert "bias" in errors(bias=["anti_black"] * 10_000)
    assert "tags" in errors(tags=["x"] * 21)
    assert "persons" in errors(persons=[{"role": "witness"}] * 51)
    assert "summary" in errors(summary="x" * 4001)
    assert "id" in errors(id="x" * 129)
    assert "source.name" in errors(source={"type": "ngo", "name": "n" * 201})


@pytest.mark.parametrize("bad", ["a b", "line\nbreak", "cr\r", "esc\x1b[31m", "bidi\u202e", ""])
def test_ids_are_printable_without_spaces(bad: str) -> None:
    assert "id" in errors(id=bad)


def test_ids_may_carry_any_printable_character() -> None:
    # Rich markup in an id once crashed correlation (the console); it is a valid id.
    assert SignalIn.model_validate(signal(id="drill-report[/]42")).id == "drill-report[/]42"
    assert SignalIn.model_validate(signal(id="école:42/ü")).id == "école:42/ü"


def test_a_repeated_bias_counts_once() -> None:
    assert SignalIn.model_validate(signal(bias=["other", "other"])).bias == ["other"]


def test_locations_are_finite() -> None:
    assert "location.lat" in errors(location={"lat": float("nan"), "lon": 0})
