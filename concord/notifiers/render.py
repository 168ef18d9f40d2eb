"""Render a task into a Message for one recipient, in the recipient's language.

Templates are files under `templates/`, one per message form for every language:
`task.subject.txt`, `task.txt`, `task.html` (autoescaped) and `task.slack.txt` (every
`{{ }}` passes through `slack_escape`, so report text can never mention @channel or
forge links). They say their words through `_()`: the same gettext catalogues as the
pages translate them (`translations`, set by `create_app`); a language without a
catalogue gets the English source.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, Template, pass_context
from jinja2.runtime import Context

from concord.common import dates, templating
from concord.common.text import one_line, slack_escape
from concord.core.analysis import Draft, draft
from concord.notifiers import cards, forms
from concord.notifiers.base import Message, Recipient
from concord.notifiers.blocks import (
    VOTING,
    actions,
    header,
    labels,
    review_buttons,
    task_buttons,
)
from concord.streams.delivery import Card, DeliveryRecord, Outgoing, task_message_key
from concord.streams.reviews import ReviewRecord
from concord.streams.tasks import Task

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"


@dataclass(frozen=True)
class Texts:
    """A message's subject, plain text and Slack mrkdwn, rendered from its templates."""

    subject: str
    text: str
    slack: str


def notice(
    key: str, recipient: Recipient, texts: Texts, exercise: bool, card: Card | None
) -> Message:
    """A notice's message: its texts, its Slack text in one block, its card (no HTML)."""
    return Message(
        key=key,
        recipient=recipient,
        subject=texts.subject,
        text=texts.text,
        slack_text=texts.slack,
        slack_blocks=section(texts.slack) if texts.slack else [],
        exercise=exercise,
        card=card,
    )


def section(slack_text: str) -> list[dict[str, object]]:
    """The Slack block that carries a message's mrkdwn (Slack's limit: 3,000 characters)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": slack_text[:3000]}}]


def _slack_finalize(value: Any) -> Any:
    return slack_escape(value) if isinstance(value, str) else value


class Renderer:
    """Jinja2 environments for mail/web (HTML autoescape) and Slack (mrkdwn escape)."""

    def __init__(self, timezone: str, public_url: str, templates: Path = TEMPLATES) -> None:
        self.public_url = public_url.rstrip("/")
        self.env = templating.files(templates, timezone, gettext=True)
        self.slack_env = templating.files(
            templates, timezone, escape=False, finalize=_slack_finalize, gettext=True
        )
        #: a language's compiled catalogue (the pages'; set by `create_app`)
        self.translations: Callable[[str], gettext.NullTranslations] = lambda language: (
            gettext.NullTranslations()
        )
        self.names: dict[str, str] = {}
        #: language -> code -> name, where a language has names of its own
        self.local_names: dict[str, dict[str, str]] = {}
        #: a code in words in a language (the pages' catalogues; set by `create_app`)
        self.words: Callable[[str, str], str] = lambda code, language: code
        #: a message id in a language (the same catalogues; set by `create_app`)
        self.say: cards.Say = cards.same
        self.zone = ZoneInfo(timezone)
        #: the translations installed in each environment now
        self._installed: dict[Environment, gettext.NullTranslations] = {}

        @pass_context
        def localtime(context: Context, value: datetime | None) -> str:
            """The city's time, written the reader's way (`5 déc. 2026 20:42`)."""
            recipient = context.get("recipient")
            lang = context.get("lang") or getattr(recipient, "language", None) or FALLBACK
            return self.localtime(value, lang)

        @pass_context
        def name(context: Context, code: str | None) -> str:
            recipient = context.get("recipient")
            lang = context.get("lang") or getattr(recipient, "language", None) or FALLBACK
            local = self.local_names.get(lang, {}).get(code or "")
            return local or self.name(code)

        @pass_context
        def words(context: Context, code: Any) -> str:
            recipient = context.get("recipient")
            lang = context.get("lang") or getattr(recipient, "language", None) or FALLBACK
            return self.words(str(getattr(code, "value", code)), lang)

        for env in (self.env, self.slack_env):
            env.globals["name"] = name
            env.filters["localtime"] = localtime
            env.filters["words"] = words

    def speak(
        self,
        translations: Callable[[str], gettext.NullTranslations],
        words: Callable[[str, str], str],
    ) -> None:
        """Say every word through these catalogues (the pages'): the templates' `_()`,
        the cards' and buttons' words, and codes in words."""
        self.translations, self.words = translations, words
        self._installed.clear()
        self.say = lambda message, language: translations(language).gettext(message)

    def localtime(self, value: datetime | None, lang: str) -> str:
        """The city's time, written the reader's way (`5 déc. 2026 20:42`)."""
        if value is None:
            return ""
        return dates.written(value, self.zone, lang)

    def name(self, code: str | None) -> str:
        """What people call an agency or a person (`names`, set from the directory); the
        code itself when unknown."""
        return self.names.get(code or "", code or "—")

    def _template(self, env: Environment, lang: str, name: str) -> Template:
        # Rendering follows at once, with no await between: one environment serves every
        # language in turn (as the pages do). Installing costs more than a short
        # template's rendering, so it is done only when the language changes.
        translations = self.translations(lang)
        if self._installed.get(env) is not translations:
            env.install_gettext_translations(  # type: ignore[attr-defined]
                translations, newstyle=True
            )
            self._installed[env] = translations
        return env.get_template(name)

    def texts(
        self, name: str, lang: str, ctx: dict[str, Any], slack: str = "", with_slack: bool = True
    ) -> Texts:
        """The three texts of one message, from `<name>.subject.txt` (one line),
        `<name>.txt` and the Slack template (`slack`, by default `<name>.txt` of the
        Slack environment, which escapes for mrkdwn); the Slack template also gets the
        subject. Without `with_slack`, the Slack text is empty (not rendered)."""
        subject = one_line(self._template(self.env, lang, f"{name}.subject.txt").render(ctx))
        text = self._template(self.env, lang, f"{name}.txt").render(ctx).strip() + "\n"
        if not with_slack:
            return Texts(subject.strip(), text, "")
        slack_template = self._template(self.slack_env, lang, slack or f"{name}.txt")
        slack_text = slack_template.render({**ctx, "subject": subject.strip()}).strip()
        return Texts(subject.strip(), text, slack_text)

    def analysis_text(self, draft: Draft, language: str) -> str:
        """The analysis as plain text, in `language` (English when not translated)."""
        template = self._template(self.env, language, "analysis.txt")
        return template.render(d=draft, lang=language).strip() + "\n"

    def task_message(
        self,
        task: Task,
        recipient: Recipient,
        area_name: str,
        links: dict[str, str] | None = None,
        kept: frozenset[forms.Form] = forms.EVERY,
    ) -> Message:
        """The message announcing `task` to `recipient` (`links`: signed email actions),
        in the forms `kept` besides its subject and text."""
        lang = recipient.language
        words = labels(self.say, lang)
        ctx = {
            "task": task,
            "text": task.text(lang),
            "recipient": recipient,
            "area_name": area_name,
            "link": f"{self.public_url}/tasks/{task.id}",
            "exercise": task.exercise,
            "links": links or {},
            "labels": words,
            "lang": lang,
        }
        slack = "slack" in kept
        texts = self.texts("task", lang, ctx, slack="task.slack.txt", with_slack=slack)
        blocks: list[dict[str, object]] = []
        if slack:
            # plain_text blocks are not mrkdwn: no escaping needed, but no links either.
            heading = self._template(self.env, lang, "task.slack_header.txt").render(ctx).strip()
            blocks = [
                header(heading),
                *section(texts.slack),
                task_buttons(task, words, self.public_url),
            ]
        card = None
        if "card" in kept:
            found = self._task_card(task, lang, area_name, str(ctx["link"]), links or {})
            card = cards.marked(found, task.exercise, lang, self.say)
        return Message(
            key=task_message_key(task.id, recipient.id),
            recipient=recipient,
            subject=texts.subject,
            text=texts.text,
            html=self._template(self.env, lang, "task.html").render(ctx) if "html" in kept else "",
            slack_text=texts.slack,
            slack_blocks=blocks,
            exercise=task.exercise,
            card=card,
        )

    def _task_card(
        self, task: Task, lang: str, area_name: str, link: str, links: dict[str, str]
    ) -> Card:
        text = task.text(lang)
        facts = [
            (cards.AREA, area_name),
            (cards.WHEN, self.localtime(task.occurred_at, lang)),
            (cards.SEVERITY, f"{task.severity} / 5"),
            (cards.DUE, self.localtime(task.due, lang)),
            (cards.URGENT, self.say(cards.YES, lang) if task.urgent else ""),
        ]
        return cards.task_card(text.title, text.action, facts, links, link, lang, self.say)

    def notice_card(
        self, texts: Texts, link: str, exercise: bool, lang: str, label: str = cards.OPEN_TASK
    ) -> Card:
        """A notice as chat channels show it: its subject, its text, and a link (`label`:
        to the task, by default) to what it is about, marked when it is a drill."""
        card = cards.text_card(texts.subject, texts.text, link, label, lang, self.say)
        return cards.marked(card, exercise, lang, self.say)

    def task_status(
        self, task: Task, actor: str, language: str = FALLBACK
    ) -> tuple[str, list[dict[str, object]]]:
        """The Slack message of a task after a change: its state, who acted, what is left
        (in the language of the liaison it was sent to)."""
        found = task.text(language)
        line = f"*{found.title}* — {self.words(task.state.value, language)} ({self.name(actor)})"
        if task.assignee:
            who = self.say(cards.ASSIGNEE, language) % {"who": self.name(task.assignee)}
            line += f" · {who}"
        blocks: list[dict[str, object]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(line)[:3000]}},
            task_buttons(task, labels(self.say, language), self.public_url),
        ]
        return line, blocks

    def notice_message(
        self,
        kind: str,
        task: Task,
        recipient: Recipient,
        area_name: str,
        note: str,
        at: datetime | None = None,
        where: str = "",
        kept: frozenset[forms.Form] = forms.EVERY,
    ) -> Message:
        """A notice about a task: declined, escalated, undeliverable, reminder, repeat (it
        happened again `at`, in `where`)..., in the forms `kept` (it has no HTML)."""
        lang = recipient.language
        ctx = {
            "kind": kind,
            "task": task,
            "text": task.text(lang),
            "recipient": recipient,
            "area_name": area_name,
            "note": note,
            "at": at,
            "where": where or area_name,
            "link": f"{self.public_url}/tasks/{task.id}",
            "exercise": task.exercise,
        }
        texts = self.texts("notice", lang, ctx, with_slack="slack" in kept)
        card = None
        if "card" in kept:
            card = self.notice_card(texts, str(ctx["link"]), bool(ctx["exercise"]), lang)
        key = f"{task.id}.{kind}.{recipient.id}.{int(task.updated_at.timestamp())}" + (
            f".{task.signals[-1]}" if kind == "repeat" and task.signals else ""
        )
        return notice(key, recipient, texts, task.exercise, card)

    def review_message(
        self,
        record: ReviewRecord,
        kind: str,
        recipient: Recipient,
        area_name: str,
        links: dict[str, str] | None,
        kept: frozenset[forms.Form] = forms.EVERY,
    ) -> Message:
        """A panel notice (`kind`: opened, amended, reminder, approved, rejected, no_quorum,
        stalled), in the forms `kept` besides its subject and text.

        Email carries the member's own signed vote `links`; the Slack channel message
        carries Approve / Conflict buttons (a rejection needs a reason: the review page).
        """
        lang = recipient.language
        d = draft(record.situation, area_name, record.current, brief=True)
        voting = kind in VOTING and record.outcome == "pending"
        review_url = f"{self.public_url}/review/{record.situation_id}"
        ctx = {
            "kind": kind,
            "d": d,
            "review": record,
            "quorum": record.quorum,
            "deadline": record.deadline if voting else None,
            "recipient": recipient,
            "analysis": self.analysis_text(d, lang),
            "links": links if voting else None,
            "review_url": review_url,
            "exercise": record.exercise,
            "lang": lang,
            "labels": labels(self.say, lang),
        }
        slack = "slack" in kept
        texts = self.texts("review", lang, ctx, slack="review.slack.txt", with_slack=slack)
        html = ""
        if "html" in kept:
            html = self._template(self.env, lang, "review.html").render({**ctx, "text": texts.text})
        blocks: list[dict[str, object]] = []
        if slack:
            value = f"{record.situation_id}|{d.version}"
            buttons = review_buttons(labels(self.say, lang), review_url, value, voting)
            row = actions(f"review:{value}", buttons)
            blocks = [header(texts.subject), *section(texts.slack), row]
        card = None
        if "card" in kept:
            votes = links if voting else None
            found = cards.review_card(texts.subject, texts.text, votes, review_url, lang, self.say)
            card = cards.marked(found, record.exercise, lang, self.say)
        return Message(
            key=f"review.{record.situation_id}.v{d.version}.{kind}.{record.reminders}.{recipient.id}",
            recipient=recipient,
            subject=texts.subject,
            text=texts.text,
            html=html,
            slack_text=texts.slack,
            slack_blocks=blocks,
            exercise=record.exercise,
            card=card,
        )

    def delivery_notice(
        self,
        record: DeliveryRecord,
        outgoing: Outgoing,
        recipient: Recipient,
        what: str,
        why: str,
        kept: frozenset[forms.Form] = forms.EVERY,
    ) -> Message:
        """For the coordinators: a message fell back to another channel (`fallback`) or
        could not be delivered at all (`failed`); in the forms `kept` (it has no HTML)."""
        lang = recipient.language
        ctx = {
            "what": what,
            "why": why,
            "record": record,
            "outgoing": outgoing,
            "recipient": recipient,
            "to": outgoing.message.recipient,
            "exercise": outgoing.message.exercise,
            "link": f"{self.public_url}/tasks/{outgoing.report_task}"
            if outgoing.report_task
            else "",
        }
        texts = self.texts("delivery", lang, ctx, with_slack="slack" in kept)
        card = None
        if "card" in kept:
            card = self.notice_card(texts, str(ctx["link"]), bool(ctx["exercise"]), lang)
        key = f"delivery.{record.key}.{what}.{record.channel}.{recipient.id}"
        return notice(key, recipient, texts, outgoing.message.exercise, card)
