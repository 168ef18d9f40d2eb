"""A task's briefing (concord.core.briefing): what happened, where, when, what it waits for."""

from __future__ import annotations

from datetime import timedelta

from concord.core.briefing import brief
from tests.unit.factories import make_situation, make_task


def test_a_briefing_says_what_where_when_and_what_the_task_waits_for() -> None:
    sit = make_situation(severity=4, bias=["antisemitic"], area="north")
    first = sit.signals[0].model_copy(
        update={"received_at": sit.signals[0].occurred_at + timedelta(minutes=39)}
    )
    second = first.model_copy(
        update={
            "id": "s2",
            "area": "south",
            "occurred_at": first.occurred_at + timedelta(minutes=10),
            "received_at": first.occurred_at + timedelta(hours=1),
        }
    )
    sit = sit.model_copy(update={"signals": [first, second]})
    before = make_task(id="t-police", state="assigned")
    task = make_task(
        id="t-schools",
        agency="schools",
        state="pending",
        depends_on=["t-police", "t-gone"],
        signals=["s", "s2"],
        areas=["north", "south"],
    )
    b = brief(task, sit, {"t-police": before})
    assert (b.category, b.bias, b.areas) == ("hate_crime", ["antisemitic"], ["north", "south"])
    assert (b.first_at, b.latest_at) == (first.occurred_at, second.occurred_at)
    assert b.reported_at == first.received_at
    assert b.reports == 2
    assert b.tension == sit.tension.level
    assert not b.awaits_panel
    assert b.waits_for == [before]  # an unknown prerequisite is not shown
    done = brief(task, sit, {"t-police": before.model_copy(update={"state": "done"})})
    assert done.waits_for == []


def test_a_briefing_without_its_situation_still_says_what_and_where() -> None:
    task = make_task(awaiting="panel", area="centre")
    b = brief(task, None, {})
    assert b.areas == ["centre"]
    assert b.awaits_panel
    assert b.tension is None
    assert (b.first_at, b.reported_at, b.reports) == (None, None, 0)
