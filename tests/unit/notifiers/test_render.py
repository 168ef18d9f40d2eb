"""Rendering messages (concord.notifiers.render): escaping, languages, drills."""

from __future__ import annotations

import pytest

from tests.unit.factories import RENDER
from tests.unit.factories import make_recipient as recipient
from tests.unit.factories import message_task as task


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
