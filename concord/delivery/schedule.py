"""When to try a message again, when to fall back, when to give up. Pure.

Like Alertmanager's retry stage, but durable and bounded by the message's meaning
rather than by a number of attempts:

- a retryable failure (a timeout, a 5xx, a 4xx SMTP answer, Slack's 429) is tried again
  after an exponential backoff with jitter (`base * 2**(attempt-1)`, capped at `cap`, a
  random part taken off so that many messages do not come back at once), and never
  sooner than the carrier's `Retry-After`;
- until the message's deadline (a task's escalation or due time, a notice's horizon):
  only then does it fall back to the next channel, with a new deadline of its own;
- a non-retryable failure (an unknown address, `channel_not_found`, `invalid_auth`)
  falls back at once;
- when no channel is left, the message has failed: the sender hears it, and the
  coordinators are told. Nothing is given up silently after a few seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from concord.streams.delivery import DeliveryRecord


@dataclass(frozen=True)
class Policy:
    """The retry schedule (seconds), the same for every carrier."""

    base: float = 1.0
    cap: float = 300.0
    jitter: float = 0.5  # up to this fraction of each wait is taken off at random
    fallback_window: timedelta = timedelta(hours=1)  # a fallback channel's own deadline

    def backoff(self, attempt: int, retry_after: float | None, rand: float) -> float:
        """Seconds before the attempt after failed attempt number `attempt` (1-based);
        `rand` in [0, 1)."""
        wait = min(self.cap, self.base * float(2 ** max(0, attempt - 1)))
        wait *= 1.0 - self.jitter * rand
        return max(wait, retry_after or 0.0)


@dataclass(frozen=True)
class Failure:
    """What a carrier said when an attempt failed."""

    error: str
    retryable: bool
    retry_after: float | None = None


Outcome = Literal["retry", "fallback", "failed"]


@dataclass(frozen=True)
class Next:
    """The record after a failed attempt, and what became of the message."""

    record: DeliveryRecord
    outcome: Outcome
    why: str = ""
    fell_back_from: list[str] = field(default_factory=list)


def after_failure(
    record: DeliveryRecord,
    failure: Failure,
    now: datetime,
    policy: Policy,
    rand: float | None = None,
) -> Next:
    """Schedule the next attempt, fall back, or give up (see the module)."""
    rand = random.random() if rand is None else rand
    attempts = record.attempts + 1
    base = record.model_copy(
        update={
            "attempts": attempts,
            "total_attempts": record.total_attempts + 1,
            "last_error": failure.error,
            "updated_at": now,
            "in_doubt": False,
        }
    )
    if failure.retryable:
        at = now + timedelta(seconds=policy.backoff(attempts, failure.retry_after, rand))
        if at <= record.deadline:
            retry = base.model_copy(update={"state": "retrying", "next_at": at})
            return Next(retry, "retry")
        why = f"{record.current}: still failing at the deadline ({failure.error})"
    else:
        why = f"{record.current}: {failure.error}"
    return fall_back(base, now, policy, why)


def fall_back(record: DeliveryRecord, now: datetime, policy: Policy, why: str) -> Next:
    """Move to the next channel (now), or fail when none is left."""
    given_up = [*record.given_up, *([record.current] if record.current else [])]
    following = record.channel + 1
    if following >= len(record.channels):
        failed = record.model_copy(
            update={"state": "failed", "next_at": None, "given_up": given_up, "updated_at": now}
        )
        return Next(failed, "failed", why, given_up)
    moved = record.model_copy(
        update={
            "channel": following,
            "attempts": 0,
            "state": "pending",
            "next_at": now,
            "deadline": max(record.deadline, now + policy.fallback_window),
            "given_up": given_up,
            "updated_at": now,
        }
    )
    return Next(moved, "fallback", why, given_up)


def delivered(
    record: DeliveryRecord, channel: str, provider_id: str, now: datetime
) -> DeliveryRecord:
    """The record once `channel` delivered it."""
    return record.model_copy(
        update={
            "state": "delivered",
            "delivered_by": channel,
            "provider_id": provider_id,
            "delivered_at": now,
            "next_at": None,
            "attempts": record.attempts + 1,
            "total_attempts": record.total_attempts + 1,
            "updated_at": now,
            "in_doubt": False,
        }
    )
