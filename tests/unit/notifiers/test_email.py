"""The email notifier (concord.notifiers.email): deterministic headers."""

from __future__ import annotations

from concord.notifiers.email import EmailNotifier
from tests.unit.factories import RENDER
from tests.unit.factories import make_recipient as recipient
from tests.unit.factories import message_task as task


def test_email_headers_are_deterministic() -> None:
    n = EmailNotifier("127.0.0.1", 25, "concord@city.example")
    msg = RENDER.task_message(task(exercise=True), recipient(), "Nord")
    built = n.build(msg)
    assert built["Message-ID"] == "<task-1.x@city.example>"
    assert built["To"] == "Ann <ann@example.org>" and built["X-Concord-Exercise"] == "yes"
    assert "password" not in repr(n)
