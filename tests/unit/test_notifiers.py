"""Rendering, escaping and the delivery pipeline (retries, Retry-After, fallback)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from concord.notifiers.base import Message, Recipient, SendError, Sent
from concord.notifiers.email import EmailNotifier
from concord.notifiers.pipeline import RetryPolicy, deliver
from concord.notifiers.registry import Registry
from concord.notifiers.render import Renderer
from concord.streams.models import Task
from tests.unit.conftest import make_task

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in Brussels, just before DST starts


def task(**kw: object) -> Task:
    base: dict[str, object] = dict(
        assignee="x",
        title="Check <b>site</b>",
        action="Go to <script>x</script> @channel <!here>",
        due=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return make_task(**{**base, **kw})


RENDER = Renderer("Europe/Brussels", "https://c.example/")


def recipient(lang: str = "en", **kw: str) -> Recipient:
    return Recipient(id="x", name="Ann", language=lang, email="ann@example.org", **kw)


def test_html_is_escaped_and_slack_is_neutralised() -> None:
    msg = RENDER.task_message(task(), recipient(slack_channel="C1"), "Nord")
    assert "<script>" not in msg.html and "&lt;script&gt;" in msg.html
    assert "<b>" not in msg.html
    assert "<!here>" not in msg.slack_text and "&lt;!here&gt;" in msg.slack_text
    assert "@channel" not in msg.slack_text
    assert msg.text.count("<script>") == 1  # plain text is text: shown as typed
    assert "https://c.example/tasks/task-1" in msg.text
    assert "Due: 2026-03-29 01:30" in msg.text  # city time (CET, before the DST switch)


@pytest.mark.parametrize(
    ("lang", "greeting", "subject"),
    [
        ("fr", "Bonjour Ann", "[Concord]"),
        ("nl", "Beste Ann", "[Concord]"),
        ("en", "Hello Ann", "[Concord]"),
        ("de", "Hello Ann", "[Concord]"),  # no German: English
    ],
)
def test_languages_and_fallback(lang: str, greeting: str, subject: str) -> None:
    msg = RENDER.task_message(task(), recipient(lang), "Nord")
    assert msg.text.startswith(greeting) and msg.subject.startswith(subject)


def test_exercise_marking_in_every_form() -> None:
    msg = RENDER.task_message(task(exercise=True), recipient("nl"), "Nord")
    assert msg.subject.startswith("[OEFENING]") and "OEFENING" in msg.html
    assert msg.slack_blocks[0]["text"]["text"].startswith("OEFENING — ")  # type: ignore[index]
    assert msg.exercise


def test_email_headers_are_deterministic() -> None:
    n = EmailNotifier("127.0.0.1", 25, "concord@city.example")
    msg = RENDER.task_message(task(exercise=True), recipient(), "Nord")
    built = n.build(msg)
    assert built["Message-ID"] == "<task-1.x@city.example>"
    assert built["To"] == "Ann <ann@example.org>" and built["X-Concord-Exercise"] == "yes"
    assert "password" not in repr(n)


class Carrier:
    """An in-memory channel implementing the Notifier protocol (pure pipeline tests)."""

    def __init__(self, channel: str, errors: list[SendError] | None = None) -> None:
        self.channel = channel
        self.errors = list(errors or [])
        self.sent: list[Message] = []

    def can_reach(self, r: Recipient) -> bool:
        return bool(r.email if self.channel == "email" else r.slack_channel)

    async def send(self, message: Message) -> Sent:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return Sent(provider_id=f"{self.channel}-{len(self.sent)}", address="a")


async def test_retry_honours_retry_after_then_succeeds() -> None:
    slack = Carrier(
        "slack",
        [SendError("rl", retryable=True, retry_after=7.0), SendError("down", retryable=True)],
    )
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    msg = RENDER.task_message(task(), recipient(slack_channel="C1"), "N")
    receipts = await deliver(
        msg, "task-1", Registry([slack]), ["slack"], RetryPolicy(5, 1.0), sleep
    )
    assert [r.ok for r in receipts] == [False, False, True]
    assert waits == [7.0, 2.0]  # Retry-After wins over the 1 s backoff; then 2 s
    assert receipts[-1].provider_id == "slack-1" and receipts[-1].attempt == 3


async def test_permanent_error_falls_back_to_next_channel() -> None:
    slack = Carrier("slack", [SendError("channel_not_found", retryable=False)])
    email = Carrier("email")

    async def sleep(s: float) -> None:
        raise AssertionError("no wait for a permanent error")

    msg = RENDER.task_message(task(), recipient(slack_channel="C1"), "N")
    receipts = await deliver(
        msg, "t", Registry([slack, email]), ["slack", "email"], RetryPolicy(3, 1.0), sleep
    )
    assert [(r.channel, r.ok) for r in receipts] == [("slack", False), ("email", True)]
    assert len(email.sent) == 1


async def test_everything_failing_is_recorded_not_dropped() -> None:
    email = Carrier("email", [SendError("451", retryable=True)] * 3)

    async def sleep(s: float) -> None:
        pass

    msg = RENDER.task_message(task(), recipient(), "N")
    receipts = await deliver(msg, "t", Registry([email]), ["email"], RetryPolicy(3, 0.0), sleep)
    assert len(receipts) == 3 and not any(r.ok for r in receipts)
    unreachable = await deliver(
        RENDER.task_message(task(), Recipient(id="y", name="Y"), "N"),
        "t",
        Registry([email]),
        ["email"],
        RetryPolicy(3, 0.0),
        sleep,
    )
    assert unreachable[0].channel == "none" and "no configured channel" in (
        unreachable[0].error or ""
    )


def test_registry_refuses_two_notifiers_for_one_channel() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        Registry([Carrier("email"), Carrier("email")])


async def test_slack_pacing_is_per_channel() -> None:
    from concord.notifiers.slack import ChannelPacing

    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacing = ChannelPacing(1.0, clock=lambda: now[0], sleep=sleep)
    await pacing.wait("C-POLICE")
    await pacing.wait("C-NGO")  # another channel does not wait
    now[0] += 0.25
    await pacing.wait("C-POLICE")  # 0.75 s left of the police channel's second
    now[0] += 5
    await pacing.wait("C-POLICE")  # long after: no wait
    assert slept == [0.75]
