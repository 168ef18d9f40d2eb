"""Rendering messages (concord.notifiers.render): escaping, languages, drills."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.notifiers import forms
from tests.unit.factories import RENDER
from tests.unit.factories import make_recipient as recipient
from tests.unit.factories import message_task as task


def test_html_is_escaped_and_slack_is_neutralised() -> None:
    msg = RENDER.task_message(task(), recipient(slack_channel="C1"), "Nord")
    assert "<script>" not in msg.html
    assert "&lt;script&gt;" in msg.html
    assert "<b>" not in msg.html
    assert "<!here>" not in msg.slack_text
    assert "&lt;!here&gt;" in msg.slack_text
    assert "@channel" not in msg.slack_text
    assert msg.text.count("<script>") == 1  # plain text is text: shown as typed
    assert "https://c.example/tasks/task-1" in msg.text
    assert "Due: Mar 29, 2026 01:30" in msg.text  # city time (CET, before the DST switch)


@pytest.mark.parametrize(
    ("lang", "greeting", "subject"),
    [
        ("fr", "Bonjour Ann", "[Concord]"),
        ("nl", "Beste Ann", "[Concord]"),
        ("en", "Hello Ann", "[Concord]"),
        ("de", "Guten Tag Ann", "[Concord]"),
        ("es", "Hello Ann", "[Concord]"),  # no Spanish catalogue: English
    ],
)
def test_languages_and_fallback(lang: str, greeting: str, subject: str) -> None:
    msg = RENDER.task_message(task(), recipient(lang), "Nord")
    assert msg.text.startswith(greeting)
    assert msg.subject.startswith(subject)


def test_one_renderer_speaks_each_reader_s_language_in_turn() -> None:
    """The catalogue of a language is installed when the language changes (not for
    every template): readers in turn, in every form, each get their own."""
    readers = ["fr", "en", "fr", "nl", "nl", "de", "fr", "es", "fr"]
    greetings = {"fr": "Bonjour", "nl": "Beste", "en": "Hello", "de": "Guten Tag", "es": "Hello"}
    says = {
        "fr": "Concord a une tâche",
        "nl": "Concord heeft een taak",
        "en": "Concord has a task",
        "de": "Concord hat eine Aufgabe",
        "es": "Concord has a task",
    }
    for lang in readers:
        msg = RENDER.task_message(task(), recipient(lang, slack_channel="C1"), "Nord")
        assert msg.text.startswith(greetings[lang]), (lang, msg.text[:40])
        assert says[lang] in msg.text, lang
        assert says[lang] in msg.html, lang


def test_exercise_marking_in_every_form() -> None:
    msg = RENDER.task_message(task(exercise=True), recipient("nl"), "Nord")
    assert msg.subject.startswith("[OEFENING]")
    assert "OEFENING" in msg.html
    assert msg.slack_blocks[0]["text"]["text"].startswith("OEFENING — ")  # type: ignore[index]
    assert msg.exercise


HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here|here>",
        "<https://evil.example|click>",
        "<@U0123>",
        "<#C0123>",
        "&",
        "&lt;",
        "@channel",
        "@here",
        "@everyone",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\r\nBcc: evil@example.org",
        "*bold* _it_ `code`",
    ]
)
hostile_text = st.lists(st.one_of(HOSTILE, st.text(max_size=8)), min_size=1, max_size=6).map(
    "".join
)


def mrkdwn_texts(msg: Any) -> list[str]:
    """The fallback text and every mrkdwn field of the blocks (what Slack parses)."""
    found = [msg.slack_text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(msg.slack_blocks)
    return found


@settings(max_examples=150, deadline=None)
@given(hostile_text, hostile_text)
def test_no_report_text_can_mention_link_or_break_out_in_slack_or_html(
    title: str, action: str
) -> None:
    msg = RENDER.task_message(
        task(title=title, action=action), recipient(slack_channel="C1"), "Nord"
    )
    for text in mrkdwn_texts(msg):
        # Slack reads <...> as a link or a mention, and & as the start of an entity.
        assert re.findall(r"<[^>]*>?", text) == [], text
        assert re.findall(r"&(?!amp;|lt;|gt;)", text) == [], text
        assert not re.search(r"(?<![\w\u200d])@(channel|here|everyone)\b", text), text
    # HTML: the template's own tags only, whatever the texts hold.
    plain = RENDER.task_message(task(title="t", action="a"), recipient(slack_channel="C1"), "Nord")
    assert tags(msg.html) == tags(plain.html)
    assert "\r" not in msg.subject
    assert "\n" not in msg.subject


def tags(html: str) -> list[tuple[str, tuple[tuple[str, str | None], ...]]]:
    """The start tags of a document with their attribute names (values vary)."""
    found: list[Any] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, tuple(sorted(name for name, _ in attrs))))

    Collect().feed(html)
    return found


@pytest.mark.parametrize(
    ("lang", "said", "when"),
    [
        ("fr", "Cela s'est reproduit : un nouveau signalement pour la tâche", "29 mars 2026 21:47"),
        ("nl", "Het is opnieuw gebeurd: een nieuwe melding voor de taak", "29 mrt 2026 21:47"),
        ("en", "It happened again: a new report for the task", "Mar 29, 2026 21:47"),
    ],
)
def test_a_repeat_notice_says_when_and_where_in_the_readers_language(
    lang: str, said: str, when: str
) -> None:
    from datetime import UTC, datetime

    again = datetime(2026, 3, 29, 19, 47, tzinfo=UTC)
    t = task(signals=["s1", "s2"], areas=["north", "south"], area="south")
    msg = RENDER.notice_message("repeat", t, recipient(lang), "Nord, Zuid", "", again, "Zuid")
    assert said in msg.text
    assert when in msg.text
    assert "Zuid" in msg.text
    assert "Nord, Zuid" in msg.subject
    assert msg.key.endswith(".s2")  # one notice per repeat, even within a second
    other = RENDER.notice_message(
        "repeat",
        t.model_copy(update={"signals": ["s1", "s3"]}),
        recipient(lang),
        "Nord, Zuid",
        "",
        again,
        "Zuid",
    )
    assert other.key != msg.key


@pytest.mark.parametrize(
    ("channel", "html", "slack", "card"),
    [
        ("slack", False, True, False),
        ("email", True, False, False),
        ("teams", False, False, True),
        ("pager", True, True, True),
    ],
)
def test_a_message_has_only_the_forms_of_its_channels(
    channel: str, html: bool, slack: bool, card: bool
) -> None:
    kept = forms.of([channel])
    task_msg = RENDER.task_message(task(), recipient(), "Nord", None, kept)
    notice = RENDER.notice_message("declined", task(), recipient(), "Nord", "busy", kept=kept)
    for msg in (task_msg, notice):
        assert msg.subject.startswith("[Concord]")
        assert msg.text.startswith("Hello Ann")  # every message has its subject and text
        assert bool(msg.slack_text) is slack
        assert bool(msg.slack_blocks) is slack
        assert (msg.card is not None) is card
    assert bool(task_msg.html) is html
    assert task_msg.html == "" or task_msg.html.lstrip().startswith("<")
