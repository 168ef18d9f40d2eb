"""What webhook subscribers are told (concord.core.publish): rules as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from concord.common.secrets import SecretRef
from concord.config.channels import Subscription
from concord.core import publish
from concord.notifiers.recipients import subscriber
from tests.unit.factories import make_signal, make_situation, make_task, review_of

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
SECRET = SecretRef(env="HOOK_SECRET")


@pytest.mark.parametrize(
    ("seen", "state", "told"),
    [
        (None, "assigned", "task.created"),
        (None, "pending", "task.created"),
        ("pending", "assigned", None),
        ("assigned", "acknowledged", "task.acknowledged"),
        ("acknowledged", "acknowledged", None),
        ("assigned", "declined", "task.declined"),
        ("acknowledged", "done", "task.done"),
        ("assigned", "escalated", "task.escalated"),
        ("escalated", "assigned", None),
        ("assigned", "failed", "task.failed"),
        ("assigned", "cancelled", None),
        ("assigned", "reassigned", None),
    ],
)
def test_what_a_task_snapshot_tells(seen: str | None, state: str, told: str | None) -> None:
    marker, happened = publish.handle(seen, make_task(state=state))
    assert marker == state
    assert [h.type for h in happened] == ([told] if told else [])


@pytest.mark.parametrize(
    ("before", "after", "told"),
    [
        (None, {}, "situation.opened"),
        (None, {"state": "closed"}, "situation.closed"),
        ({}, {}, None),  # the same snapshot again (a replay): nothing new
        ({}, {"severity": 5}, "situation.changed"),
        ({}, {"state": "responding"}, "situation.changed"),
        ({}, {"areas": ["north", "centre"]}, "situation.changed"),
        ({}, {"state": "closed"}, "situation.closed"),
        ({"state": "closed"}, {"state": "closed", "severity": 5}, None),
        ({}, {"tension": {"score": 9.0, "level": "critical"}}, None),  # not what they see
    ],
)
def test_what_a_situation_snapshot_tells(
    before: dict[str, object] | None, after: dict[str, object], told: str | None
) -> None:
    base = make_situation()
    seen = None
    if before is not None:
        seen, _ = publish.handle(None, base.model_validate({**base.model_dump(), **before}))
    changed = base.model_validate({**base.model_dump(), **after})
    _, happened = publish.handle(seen, changed)
    assert [h.type for h in happened] == ([told] if told else [])


def test_a_review_is_told_once_decided() -> None:
    review = review_of(make_situation(), NOW)
    assert publish.handle(None, review)[1] == []
    decided = review.model_copy(update={"outcome": "approved", "decided_at": NOW})
    marker, happened = publish.handle("pending", decided)
    assert [h.type for h in happened] == ["review.decided"]
    assert happened[0].data["outcome"] == "approved"
    assert publish.handle(marker, decided)[1] == []


def test_an_event_carries_no_person_and_no_report_text() -> None:
    signal = make_signal()
    (h,) = publish.of_report(signal)
    text = str(h.data)
    assert signal.sealed not in text
    assert signal.summary_sealed not in text
    assert set(h.data) == {
        "signal", "kind", "category", "bias", "severity", "area", "source_type",
        "occurred_at", "received_at", "exercise",
    }  # fmt: skip


def test_the_same_snapshot_makes_the_same_event_id() -> None:
    task = make_task(state="acknowledged")
    first = publish.handle("assigned", task)[1][0]
    again = publish.handle("assigned", task)[1][0]
    assert first.id == again.id
    later = task.model_copy(update={"updated_at": task.updated_at + timedelta(seconds=1)})
    assert publish.handle("assigned", later)[1][0].id != first.id


@pytest.mark.parametrize(
    ("hook", "event", "agency", "gets"),
    [
        ({}, "task.done", "police", True),
        ({"events": ["task.created"]}, "task.done", "police", False),
        ({"agency": "police"}, "task.done", "police", True),
        ({"agency": "police"}, "task.done", "schools", False),
        ({"agency": "police"}, "situation.opened", None, False),
        ({"format": "cap"}, "task.done", "police", False),
        ({"format": "cap"}, "situation.opened", None, True),
    ],
)
def test_who_gets_what(hook: dict[str, object], event: str, agency: str | None, gets: bool) -> None:
    sub = Subscription.model_validate(
        {"id": "h", "url": "https://x.example", "secret": SECRET, **hook}
    )
    situation = make_situation() if event.startswith("situation") else None
    h = publish.Happened(event, "s", NOW, {}, False, agency, situation)  # type: ignore[arg-type]
    assert publish.wants(sub, h) is gets


def test_deliveries_are_one_message_per_event_and_subscriber() -> None:
    hooks = [
        Subscription(id="cases", url="https://cases.example", secret=SECRET),
        Subscription(id="cap", url="https://cap.example", secret=SECRET, format="cap"),
    ]
    _, happened = publish.handle(None, make_situation(exercise=True))
    out = publish.deliveries(happened, hooks, subscriber, lambda s, k: f"<alert>{k}</alert>", NOW)
    assert [o.key for o in out] == [f"{happened[0].id}.cases", f"{happened[0].id}.cap"]
    cases, cap = (o.message for o in out)
    assert cases.event is not None
    assert cases.event.type == "org.concord.situation.opened"
    assert cases.event.cap is None
    assert cases.exercise
    assert cap.event is not None
    assert cap.event.cap == "<alert>Alert</alert>"
    assert all(o.channels == ["webhook"] and not o.tell_on_failure for o in out)
    assert cases.recipient.webhook_url == "https://cases.example"


def test_what_the_stage_remembers_each_snapshot_by() -> None:
    review = review_of(make_situation(), NOW)
    assert [publish.remembered_as(x) for x in (make_situation(), make_task(), review)] == [
        "situation|sit-1",
        "task|task-1",
        "review|sit-1",
    ]
