"""The email notifier (concord.notifiers.email): deterministic headers."""

from __future__ import annotations

from datetime import UTC, datetime

from concord.notifiers.base import Recipient
from concord.notifiers.email import EmailNotifier
from concord.notifiers.render import Renderer
from concord.streams.tasks import Task
from tests.unit.factories import make_task

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


def test_email_headers_are_deterministic() -> None:
    n = EmailNotifier("127.0.0.1", 25, "concord@city.example")
    msg = RENDER.task_message(task(exercise=True), recipient(), "Nord")
    built = n.build(msg)
    assert built["Message-ID"] == "<task-1.x@city.example>"
    assert built["To"] == "Ann <ann@example.org>" and built["X-Concord-Exercise"] == "yes"
    assert "password" not in repr(n)
