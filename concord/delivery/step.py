"""The delivery stage's rule: `handle(record, event, now) -> (record, effects)`. Pure.

The deliver agent keeps one `DeliveryRecord` per message key (the `deliveries` table)
and applies the stage's events to it here; it then writes the record and carries out
the effects. The events:

- `Requested`: a message to send, with the channels a configured carrier can reach.
  A key that has a record already is ignored (once per key). No reachable channel:
  the message has failed at once.
- `Withdrawn`: the message is moot (the task went to someone else, or ended). A record
  not final becomes `withdrawn` and its lane is released; nothing is reported.
- `Sent`: the carrier took the message, or, asked after a takeover, said it had it
  (`confirmed`). The record is delivered and the outcome reported. On a record that is
  final already (withdrawn while the attempt was in flight) only the receipt is kept.
- `Failed`: an attempt failed. Retry on the same lane (which is not released: the
  message keeps its place in its order), fall back to the next channel, or fail
  (`concord.delivery.schedule`).
- `TakenUp`: this worker now owns the key's partition and did not have the message on
  its way (a start, a rebalance, a crash of the worker that had it). The record is
  marked in doubt: the next attempt first asks the carrier whether it arrived (Slack
  can tell), or sends again flagged as a resend (an email keeps its Message-ID).
- `Due`: its retry time has come.

Every attempt's receipt is kept in the record (`DeliveryRecord.receipts`, the latest
ten), so the message's state on `concord.delivery-state` carries it: one record per
attempt's outcome, not a receipt and a state.

The record is written before the effects are carried out, and it is durable in Kafka
before any attempt leaves, so a message is delivered once per key, also across crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from concord.delivery.lanes import Lane, lane_of
from concord.delivery.schedule import Failure, Policy, after_failure, delivered
from concord.streams.delivery import RECEIPTS_KEPT, DeliveryRecord, Outgoing, Receipt
from concord.streams.tasks import TaskEvent

NO_CHANNEL = "no configured channel can reach this recipient"

# -- events -------------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    """Deliver this message on the first of `reachable` that takes it."""

    outgoing: Outgoing
    reachable: list[str]


@dataclass(frozen=True)
class Withdrawn:
    """The message is moot."""

    reason: str


@dataclass(frozen=True)
class Sent:
    """The carrier has the message under `provider_id` (a Message-ID, a Slack ts)."""

    channel: str
    provider_id: str
    confirmed: bool = False  # found by asking the carrier, not sent again


@dataclass(frozen=True)
class Failed:
    """An attempt on `channel` failed; `rand` in [0, 1) draws the backoff's jitter."""

    channel: str
    failure: Failure
    rand: float


@dataclass(frozen=True)
class TakenUp:
    """This worker now has the key's partition, and did not have the message on its way."""


@dataclass(frozen=True)
class Due:
    """The record's retry time has come."""


Event = Requested | Withdrawn | Sent | Failed | TakenUp | Due

# -- effects ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """Hand the message to its lane now, for one attempt on its current channel."""

    key: str
    lane: Lane
    order: str


@dataclass(frozen=True)
class Wait:
    """Attempt again at `at` (wall clock): the agent keeps the schedule."""

    key: str
    at: datetime


@dataclass(frozen=True)
class Release:
    """The lane may run the next message of this order."""

    key: str
    lane: Lane
    order: str


@dataclass(frozen=True)
class Note:
    """An attempt's outcome heard: counted, and told to the carrier's health (the
    receipt itself is kept in the record, `DeliveryRecord.receipts`)."""

    receipt: Receipt


@dataclass(frozen=True)
class Report:
    """Tell the track stage how a task's message ended (`concord.task-events`)."""

    event: TaskEvent


@dataclass(frozen=True)
class Audit:
    """An effect: an audit entry for the message."""

    action: str
    subject: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tell:
    """Tell the coordinators that a message fell back or could not be delivered."""

    record: DeliveryRecord
    what: Literal["fallback", "failed"]
    why: str


@dataclass(frozen=True)
class Ended:
    """A message reached its end (delivered or failed): the metrics and the narration."""

    record: DeliveryRecord


Effect = Attempt | Wait | Release | Note | Report | Audit | Tell | Ended
Result = tuple[DeliveryRecord | None, list[Effect]]


@dataclass(frozen=True)
class Try:
    """What a lane's job does when it runs: one attempt of `key` on `channel`."""

    key: str
    channel: str
    ask_first: bool  # in doubt: ask the carrier whether the message already arrived


def attempt_of(record: DeliveryRecord | None) -> Try | None:
    """The attempt a lane's job makes now, or None (final, withdrawn, nothing to send)."""
    if record is None or record.final or record.outgoing is None or record.current is None:
        return None
    return Try(record.key, record.current, record.in_doubt)


def handle(record: DeliveryRecord | None, event: Event, now: datetime, policy: Policy) -> Result:
    """Apply one event to a message's record (see the module)."""
    if isinstance(event, Requested):
        return _requested(record, event, now)
    if record is None:
        return None, []
    if isinstance(event, Sent):
        return _sent(record, event, now)
    if record.final or record.outgoing is None:
        return record, []
    if isinstance(event, Withdrawn):
        withdrawn = _update(record, now, state="withdrawn", last_error=event.reason, next_at=None)
        return withdrawn, [_release(record)]
    if isinstance(event, Failed):
        return _failed(record, event, now, policy)
    if isinstance(event, TakenUp):
        doubt = record.model_copy(update={"in_doubt": True})
        return doubt, [_next(doubt, now)]
    return record, [_attempt(record)]  # Due


def _requested(record: DeliveryRecord | None, event: Requested, now: datetime) -> Result:
    if record is not None:
        return record, []  # delivered, or on its way (a restart takes it up again)
    outgoing = event.outgoing
    new = DeliveryRecord(
        key=outgoing.key,
        kind=outgoing.kind,
        subject=outgoing.subject,
        recipient=outgoing.message.recipient.id,
        channels=list(dict.fromkeys(event.reachable)),
        deadline=outgoing.deadline,
        created_at=outgoing.created_at,
        updated_at=now,
        next_at=now,
        outgoing=outgoing,
    )
    if new.channels:
        return new, [_attempt(new)]
    failed = _update(new, now, state="failed", last_error=NO_CHANNEL, next_at=None)
    note = _note(failed, "none", 0, now, ok=False, error=NO_CHANNEL)
    failed = _kept(failed, note)
    return failed, [note, *_ended(failed)]


def _sent(record: DeliveryRecord, event: Sent, now: datetime) -> Result:
    attempt = record.attempts + 1
    note = _note(record, event.channel, attempt, now, ok=True, provider_id=event.provider_id)
    if record.final or record.outgoing is None:
        # It left before it was withdrawn: the receipt in the record says so.
        return _kept(record, note), [note]
    done = _kept(delivered(record, event.channel, event.provider_id, now), note)
    effects: list[Effect] = []
    if event.confirmed:
        details = {"channel": event.channel, "key": record.key}
        effects.append(Audit("delivery.confirmed_after_restart", record.subject, details))
    effects += [note, _release(record), *_ended(done)]
    return done, effects


def _failed(record: DeliveryRecord, event: Failed, now: datetime, policy: Policy) -> Result:
    failure = event.failure
    note = _note(
        record,
        event.channel,
        record.attempts + 1,
        now,
        ok=False,
        error=failure.error,
        retryable=failure.retryable,
    )
    step = after_failure(record, failure, now, policy, event.rand)
    after = _kept(step.record, note)
    if step.outcome == "retry":
        assert after.next_at is not None
        return after, [note, Wait(after.key, after.next_at)]  # the lane keeps its place
    effects: list[Effect] = [note, _release(record)]
    if step.outcome == "fallback":
        effects += [*_tell(after, "fallback", step.why), _attempt(after)]
        return after, effects
    return after, [*effects, *_ended(after)]


def _ended(record: DeliveryRecord) -> list[Effect]:
    """Who hears that a message was delivered or failed."""
    outgoing = record.outgoing
    assert outgoing is not None
    ok = record.state == "delivered"
    effects: list[Effect] = []
    if outgoing.report_task:
        event = TaskEvent(
            task_id=outgoing.report_task,
            action="delivered",
            ok=ok,
            channels=[record.delivered_by] if record.delivered_by else [],
            slack_ref=record.provider_id if record.delivered_by == "slack" else None,
        )
        details = {"assignee": record.recipient, "attempts": str(record.total_attempts)}
        if record.delivered_by:
            details["channel"] = record.delivered_by
        action = "task.delivered" if ok else "task.delivery_failed"
        effects += [Report(event), Audit(action, outgoing.report_task, details)]
    elif not ok:
        reason = record.last_error or ""
        details = {"key": record.key, "recipient": record.recipient, "reason": reason}
        effects += [Audit("delivery.failed", record.subject, details)]
        effects += _tell(record, "failed", reason)
    return [*effects, Ended(record)]


def _tell(record: DeliveryRecord, what: Literal["fallback", "failed"], why: str) -> list[Effect]:
    outgoing = record.outgoing
    if outgoing is None or not outgoing.tell_on_failure:
        return []
    if what == "failed" and outgoing.report_task:
        return []  # the track stage tells them (the task is `failed`, unassignable)
    return [Tell(record, what, why)]


def _next(record: DeliveryRecord, now: datetime) -> Effect:
    if record.next_at is not None and record.next_at > now:
        return Wait(record.key, record.next_at)
    return _attempt(record)


def _attempt(record: DeliveryRecord) -> Attempt:
    assert record.outgoing is not None
    assert record.current is not None
    lane = lane_of(record.outgoing, record.current)
    return Attempt(record.key, lane, record.outgoing.order)


def _release(record: DeliveryRecord) -> Release:
    assert record.outgoing is not None
    lane = lane_of(record.outgoing, record.current or "")
    return Release(record.key, lane, record.outgoing.order)


def _note(
    record: DeliveryRecord,
    channel: str,
    attempt: int,
    now: datetime,
    *,
    ok: bool,
    error: str | None = None,
    provider_id: str | None = None,
    retryable: bool = False,
) -> Note:
    receipt = Receipt(
        task_id=record.subject,
        channel=channel,
        recipient=record.recipient,
        attempt=attempt,
        ok=ok,
        retryable=retryable,
        error=error,
        provider_id=provider_id,
        exercise=record.outgoing.message.exercise if record.outgoing else False,
        at=now,
    )
    return Note(receipt)


def _kept(record: DeliveryRecord, note: Note) -> DeliveryRecord:
    """The record with the attempt's receipt (the latest `RECEIPTS_KEPT`)."""
    receipts = [*record.receipts, note.receipt][-RECEIPTS_KEPT:]
    return record.model_copy(update={"receipts": receipts})


def _update(record: DeliveryRecord, now: datetime, **changes: object) -> DeliveryRecord:
    return record.model_copy(update={**changes, "updated_at": now})
