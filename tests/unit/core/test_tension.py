"""The tension level of a situation (concord.core.tension)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from concord.core.tension import tension
from concord.streams.situations import SignalRef

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def ref(source: str, severity: int, age_days: float = 0, kind: str = "incident") -> SignalRef:
    return SignalRef(
        id=f"{source}{severity}{age_days}",
        kind=kind,
        category="hate_crime",
        severity=severity,
        occurred_at=T0 - timedelta(days=age_days),
        source_type=source,
    )


def test_tension_levels_follow_the_documented_rules() -> None:
    assert tension([ref("police", 4)], T0).level == "moderate"  # 4.0
    assert tension([ref("public", 4)], T0).level == "low"  # 2.4: an anonymous report
    two = tension([ref("police", 4), ref("ngo", 4)], T0)
    assert (two.score, two.level) == (9.5, "high")  # (4 + 3.6) x 1.25
    three = tension([ref("police", 4), ref("ngo", 4), ref("school", 4)], T0)
    assert three.level == "critical"  # (4 + 3.6 + 3.6) x 1.5 = 16.8
    # The same three reports a week ago have cooled down (half-life 3 days).
    old = tension([ref("police", 4, 7), ref("ngo", 4, 7), ref("school", 4, 7)], T0)
    assert old.level == "low"
    assert old.score == pytest.approx(16.8 * 0.5 ** (7 / 3), 0.01)
    # Three reports from one source are not corroboration.
    same = tension([ref("ngo", 4), ref("ngo", 4), ref("ngo", 4)], T0)
    assert same.score == pytest.approx(10.8)
    assert same.level == "high"
