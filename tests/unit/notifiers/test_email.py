"""The email notifier (concord.notifiers.email): deterministic headers, no injected ones."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import given, settings
from hypothesis import strategies as st

from concord.notifiers.email import EmailNotifier
from tests.unit.factories import RENDER
from tests.unit.factories import make_recipient as recipient
from tests.unit.factories import message_task as task


def test_email_headers_are_deterministic() -> None:
    n = EmailNotifier("127.0.0.1", 25, "concord@city.example")
    msg = RENDER.task_message(task(exercise=True), recipient(), "Nord")
    built = n.build(msg)
    assert built["Message-ID"] == "<task-1.x@city.example>"
    assert built["To"] == "Ann <ann@example.org>"
    assert built["X-Concord-Exercise"] == "yes"
    assert "password" not in repr(n)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["\r\n", "\n", "\r", "Bcc: evil@example.org", "Subject: x", " ", "é", "ok"]
        ),
        max_size=8,
    ).map("".join)
)
def test_no_text_can_add_an_email_header_or_make_the_message_unsendable(title: str) -> None:
    n = EmailNotifier("127.0.0.1", 25, "concord@city.example")
    someone = recipient().model_copy(update={"name": f"Ann{title}"})
    msg = RENDER.task_message(task(title=title or "t"), someone, "Nord")
    parsed = message_from_bytes(n.build(msg).as_bytes(), policy=policy.default)
    names = sorted({k.lower() for k in parsed})
    assert names == ["content-type", "date", "from", "message-id", "mime-version", "subject", "to"]
    subject = str(parsed["Subject"])  # unfolded: a long subject's folding is not a break
    assert "\n" not in subject
    assert "\r" not in subject
    assert subject.startswith("[Concord]")
