"""concord.delivery.schedule: backoff, cap, jitter, Retry-After, deadline, fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from concord.delivery.schedule import Failure, Policy, after_failure, delivered
from concord.streams.delivery import DeliveryRecord

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
POLICY = Policy(base=1.0, cap=60.0, jitter=0.5, fallback_window=timedelta(hours=1))


def record(
    channels: list[str] | None = None, deadline: timedelta = timedelta(minutes=30)
) -> DeliveryRecord:
    return DeliveryRecord(
        key="task-1.police-duty",
        kind="task",
        subject="task-1",
        recipient="police-duty",
        channels=channels or ["slack", "email"],
        deadline=T0 + deadline,
        created_at=T0,
        updated_at=T0,
    )


@pytest.mark.parametrize(
    ("attempt", "expected"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (30, 60.0)]
)
def test_backoff_doubles_up_to_the_cap(attempt: int, expected: float) -> None:
    assert POLICY.backoff(attempt, None, rand=0.0) == expected


def test_jitter_takes_off_at_most_half_and_retry_after_wins() -> None:
    assert POLICY.backoff(3, None, rand=0.999) == pytest.approx(2.002, abs=0.01)
    assert POLICY.backoff(1, 7.0, rand=0.0) == 7.0  # Retry-After over a 1 s backoff
    assert POLICY.backoff(7, 7.0, rand=0.0) == 60.0  # but never shortens the backoff


def test_a_retryable_failure_is_tried_again_until_the_deadline() -> None:
    step = after_failure(record(), Failure("Slack 500", retryable=True), T0, POLICY, rand=0.0)
    assert step.outcome == "retry"
    assert step.record.state == "retrying"
    assert step.record.next_at == T0 + timedelta(seconds=1)
    assert step.record.attempts == 1
    assert step.record.current == "slack"
    assert step.record.last_error == "Slack 500"
    late = record(deadline=timedelta(seconds=30)).model_copy(update={"attempts": 5})
    after = after_failure(
        late, Failure("Slack 500", retryable=True), T0 + timedelta(seconds=20), POLICY, 0.0
    )
    # The next attempt (32 s away) would come after the deadline: fall back to email now.
    assert after.outcome == "fallback"
    assert after.record.current == "email"
    assert after.record.attempts == 0
    assert after.record.given_up == ["slack"]
    assert after.record.next_at == T0 + timedelta(seconds=20)
    assert after.record.deadline == T0 + timedelta(seconds=20) + timedelta(hours=1)


def test_a_permanent_failure_falls_back_at_once() -> None:
    step = after_failure(record(), Failure("channel_not_found", retryable=False), T0, POLICY)
    assert step.outcome == "fallback"
    assert step.record.current == "email"
    assert "channel_not_found" in step.why


def test_when_no_channel_is_left_the_message_has_failed() -> None:
    last = record(channels=["email"])
    step = after_failure(last, Failure("bad address", retryable=False), T0, POLICY)
    assert step.outcome == "failed"
    assert step.record.state == "failed"
    assert step.record.final
    assert step.record.given_up == ["email"]
    assert step.record.next_at is None


def test_a_delivery_records_where_and_when() -> None:
    done = delivered(record(), "slack", "C-POLICE/1.2", T0)
    assert (done.state, done.delivered_by, done.provider_id, done.delivered_at) == (
        "delivered",
        "slack",
        "C-POLICE/1.2",
        T0,
    )
    assert done.final
    assert done.total_attempts == 1


def test_a_record_written_when_delivered_by_was_via_still_reads() -> None:
    done = delivered(record(), "slack", "C-POLICE/1.2", T0)
    old = done.model_dump_json().replace('"delivered_by"', '"via"')
    assert DeliveryRecord.model_validate_json(old) == done
