"""concord.delivery.step: the delivery stage's rule, case by case, as literal tables.

Each row: a record before (by name), an event, the state after, and the effects in a
short spelling (`attempt slack`, `wait 1s`, `release slack`, `note slack ok`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from concord.delivery import step
from concord.delivery.schedule import Failure, Policy
from concord.streams.delivery import DeliveryRecord, Message, Outgoing, Recipient

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
POLICY = Policy(base=1.0, cap=60.0, jitter=0.5, fallback_window=timedelta(hours=1))
KEY = "task-1.police-duty"


def outgoing(report_task: str | None = "task-1", tell: bool = True) -> Outgoing:
    recipient = Recipient(
        id="police-duty", name="Duty", email="duty@police.example", slack_channel="C-POLICE"
    )
    return Outgoing(
        kind="task" if report_task else "notice",
        subject="task-1",
        order="sit-1",
        message=Message(key=KEY, recipient=recipient, subject="Task", text="Do it"),
        channels=["slack", "email"],
        deadline=T0 + timedelta(minutes=30),
        created_at=T0,
        report_task=report_task,
        tell_on_failure=tell,
    )


def requested(out: Outgoing | None = None) -> DeliveryRecord:
    record, _ = step.handle(None, step.Requested(out or outgoing(), ["slack", "email"]), T0, POLICY)
    assert record is not None
    return record


def on_email() -> DeliveryRecord:
    return requested().model_copy(update={"channel": 1, "given_up": ["slack"]})


def retrying() -> DeliveryRecord:
    return requested().model_copy(
        update={"state": "retrying", "attempts": 1, "next_at": T0 + timedelta(seconds=40)}
    )


def late() -> DeliveryRecord:
    """Four failures in: the next wait (16 s) would end past a deadline 10 s away."""
    return requested().model_copy(update={"attempts": 4, "deadline": T0 + timedelta(seconds=10)})


def withdrawn() -> DeliveryRecord:
    # As the table keeps a final record: without its content.
    return requested().model_copy(update={"state": "withdrawn", "outgoing": None})


def delivered() -> DeliveryRecord:
    return requested().model_copy(update={"state": "delivered", "delivered_by": "slack"})


def in_doubt() -> DeliveryRecord:
    return requested().model_copy(update={"in_doubt": True})


def notice() -> DeliveryRecord:
    return requested(outgoing(report_task=None)).model_copy(update={"channel": 1})


def quiet_notice() -> DeliveryRecord:
    return requested(outgoing(report_task=None, tell=False)).model_copy(update={"channel": 1})


RECORDS: dict[str, Callable[[], DeliveryRecord | None]] = {
    "none": lambda: None,
    "requested": requested,
    "on_email": on_email,
    "retrying": retrying,
    "late": late,
    "withdrawn": withdrawn,
    "delivered": delivered,
    "in_doubt": in_doubt,
    "notice": notice,
    "quiet_notice": quiet_notice,
}

SLACK_500 = step.Failed("slack", Failure("Slack 500", retryable=True), rand=0.0)
NOT_IN_CHANNEL = step.Failed("slack", Failure("not_in_channel", retryable=False), rand=0.0)
SMTP_550 = step.Failed("email", Failure("550 no such user", retryable=False), rand=0.0)
SMTP_421 = step.Failed("email", Failure("421 busy", retryable=True), rand=0.0)

CASES = [
    # case, before, event, state after, effects
    (
        "first attempt",
        "none",
        step.Requested(outgoing(), ["slack", "email"]),
        "pending",
        ["attempt slack"],
    ),
    (
        "no reachable channel",
        "none",
        step.Requested(outgoing(), []),
        "failed",
        ["note none failed", "report failed", "audit task.delivery_failed", "ended failed"],
    ),
    ("duplicate request", "requested", step.Requested(outgoing(), ["slack"]), "pending", []),
    (
        "duplicate of a delivered key",
        "delivered",
        step.Requested(outgoing(), ["slack"]),
        "delivered",
        [],
    ),
    (
        "delivered",
        "requested",
        step.Sent("slack", "C-POLICE/1.0"),
        "delivered",
        ["note slack ok", "release slack", "report ok", "audit task.delivered", "ended delivered"],
    ),
    (
        "retryable: tried again on the same lane",
        "requested",
        SLACK_500,
        "retrying",
        ["note slack failed", "wait 1s"],
    ),
    (
        "permanent: falls back at once",
        "requested",
        NOT_IN_CHANNEL,
        "pending",
        ["note slack failed", "release slack", "tell fallback", "attempt email"],
    ),
    (
        "deadline then fallback",
        "late",
        SLACK_500,
        "pending",
        ["note slack failed", "release slack", "tell fallback", "attempt email"],
    ),
    (
        "the last channel fails: the track stage tells",
        "on_email",
        SMTP_550,
        "failed",
        [
            "note email failed",
            "release email",
            "report failed",
            "audit task.delivery_failed",
            "ended failed",
        ],
    ),
    (
        "the last channel retries",
        "on_email",
        SMTP_421,
        "retrying",
        ["note email failed", "wait 1s"],
    ),
    (
        "a notice fails: the coordinators are told",
        "notice",
        SMTP_550,
        "failed",
        [
            "note email failed",
            "release email",
            "audit delivery.failed",
            "tell failed",
            "ended failed",
        ],
    ),
    (
        "a notice that asks for no word fails quietly",
        "quiet_notice",
        SMTP_550,
        "failed",
        ["note email failed", "release email", "audit delivery.failed", "ended failed"],
    ),
    ("taken up: in doubt, tried now", "requested", step.TakenUp(), "pending", ["attempt slack"]),
    ("taken up while waiting: at its time", "retrying", step.TakenUp(), "retrying", ["wait 40s"]),
    ("taken up but final: nothing", "delivered", step.TakenUp(), "delivered", []),
    (
        "in doubt, the carrier had it",
        "in_doubt",
        step.Sent("slack", "C-POLICE/1.0", confirmed=True),
        "delivered",
        [
            "audit delivery.confirmed_after_restart",
            "note slack ok",
            "release slack",
            "report ok",
            "audit task.delivered",
            "ended delivered",
        ],
    ),
    ("withdrawn", "requested", step.Withdrawn("reassigned"), "withdrawn", ["release slack"]),
    (
        "withdrawn while retrying",
        "retrying",
        step.Withdrawn("done"),
        "withdrawn",
        ["release slack"],
    ),
    ("withdrawn twice", "withdrawn", step.Withdrawn("again"), "withdrawn", []),
    (
        "sent while it was withdrawn: only the receipt",
        "withdrawn",
        step.Sent("slack", "C-POLICE/1.0"),
        "withdrawn",
        ["note slack ok"],
    ),
    ("failed after it was withdrawn", "withdrawn", SLACK_500, "withdrawn", []),
    ("due", "retrying", step.Due(), "retrying", ["attempt slack"]),
    ("due but delivered meanwhile", "delivered", step.Due(), "delivered", []),
    ("an event for an unknown key", "none", step.Due(), None, []),
]


def spell(effect: step.Effect, now: datetime) -> str:
    """An effect in a few words."""
    if isinstance(effect, step.Attempt | step.Release):
        return f"{type(effect).__name__.lower()} {effect.lane[0]}"
    if isinstance(effect, step.Wait):
        return f"wait {(effect.at - now).total_seconds():.0f}s"
    if isinstance(effect, step.Note):
        return f"note {effect.receipt.channel} {'ok' if effect.receipt.ok else 'failed'}"
    if isinstance(effect, step.Report):
        return f"report {'ok' if effect.event.ok else 'failed'}"
    if isinstance(effect, step.Audit):
        return f"audit {effect.action}"
    if isinstance(effect, step.Tell):
        return f"tell {effect.what}"
    return f"ended {effect.record.state}"


@pytest.mark.parametrize(
    ("case", "before", "event", "state", "effects"), CASES, ids=[c[0] for c in CASES]
)
def test_rule(
    case: str, before: str, event: step.Event, state: str | None, effects: list[str]
) -> None:
    after, out = step.handle(RECORDS[before](), event, T0, POLICY)
    assert (after.state if after else None) == state
    assert [spell(e, T0) for e in out] == effects


def test_a_take_up_marks_the_record_in_doubt_and_the_attempt_asks_first() -> None:
    after, _ = step.handle(requested(), step.TakenUp(), T0, POLICY)
    assert after is not None
    assert after.in_doubt
    assert step.attempt_of(after) == step.Try(KEY, "slack", ask_first=True)
    assert step.attempt_of(requested()) == step.Try(KEY, "slack", ask_first=False)
    assert step.attempt_of(withdrawn()) is None
    assert step.attempt_of(None) is None


def test_a_delivery_after_doubt_clears_it_and_counts_the_attempt() -> None:
    after, effects = step.handle(in_doubt(), step.Sent("email", "<m@x>"), T0, POLICY)
    assert after is not None
    assert not after.in_doubt
    assert (after.delivered_by, after.provider_id, after.total_attempts) == ("email", "<m@x>", 1)
    report = next(e for e in effects if isinstance(e, step.Report))
    assert report.event.channels == ["email"]
    assert report.event.slack_ref is None


def test_the_report_of_a_slack_delivery_carries_the_message_ref() -> None:
    _, effects = step.handle(requested(), step.Sent("slack", "C-POLICE/1.0"), T0, POLICY)
    report = next(e for e in effects if isinstance(e, step.Report))
    assert report.event.slack_ref == "C-POLICE/1.0"
    assert report.event.task_id == "task-1"


def test_a_receipt_says_which_attempt_on_which_channel_and_why() -> None:
    _, effects = step.handle(retrying(), SLACK_500, T0, POLICY)
    note = effects[0]
    assert isinstance(note, step.Note)
    receipt = note.receipt
    assert (receipt.attempt, receipt.ok, receipt.retryable, receipt.error) == (
        2,
        False,
        True,
        "Slack 500",
    )
    assert receipt.at == T0
    assert receipt.task_id == "task-1"


def test_the_record_keeps_each_attempt_s_receipt_the_latest_ten() -> None:
    """The message's state carries its receipts: one record per outcome, not two."""
    record = requested()
    for attempt in range(1, 13):
        after, effects = step.handle(record, SLACK_500, T0, POLICY)
        assert after is not None
        [note] = [e for e in effects if isinstance(e, step.Note)]
        assert after.receipts[-1] == note.receipt
        assert note.receipt.attempt == attempt
        record = after
    assert len(record.receipts) == 10
    assert [r.attempt for r in record.receipts] == list(range(3, 13))
    done, _ = step.handle(record, step.Sent("slack", "C-P/1.0"), T0, POLICY)
    assert done is not None
    assert (done.receipts[-1].ok, done.receipts[-1].provider_id) == (True, "C-P/1.0")


def test_a_receipt_after_a_withdrawal_is_kept_in_the_final_record() -> None:
    after, effects = step.handle(withdrawn(), step.Sent("slack", "C-P/1.0"), T0, POLICY)
    assert after is not None
    assert after.state == "withdrawn"
    assert [(r.channel, r.ok) for r in after.receipts] == [("slack", True)]
    assert [type(e).__name__ for e in effects] == ["Note"]


def test_a_request_keeps_each_channel_once_in_order() -> None:
    after, _ = step.handle(
        None, step.Requested(outgoing(), ["email", "slack", "email"]), T0, POLICY
    )
    assert after is not None
    assert after.channels == ["email", "slack"]
    assert after.outgoing is not None
    assert after.next_at == T0
