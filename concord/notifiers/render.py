"""Render a task into a Message for one recipient, in the recipient's language.

Templates are files under `templates/<lang>/`: `task.subject.txt`, `task.txt`,
`task.html` (autoescaped) and `task.slack.txt` (every `{{ }}` passes through
`slack_escape`, so report text can never mention @channel or forge links).
A language without a template falls back to English.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from concord.core.analysis import Draft
from concord.core.redaction import slack_escape
from concord.notifiers.base import Message, Recipient
from concord.streams.models import Task

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"


def _slack_finalize(value: Any) -> Any:
    return slack_escape(value) if isinstance(value, str) else value


class Renderer:
    """Jinja2 environments for mail/web (HTML autoescape) and Slack (mrkdwn escape)."""

    def __init__(self, timezone: str, public_url: str, templates: Path = TEMPLATES) -> None:
        self.tz = ZoneInfo(timezone)
        self.public_url = public_url.rstrip("/")
        loader = FileSystemLoader(str(templates))
        self.env = Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=False,
        )
        self.slack_env = Environment(
            loader=loader, undefined=StrictUndefined, autoescape=False, finalize=_slack_finalize
        )
        for env in (self.env, self.slack_env):
            env.filters["localtime"] = self._localtime

    def _localtime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _template(self, env: Environment, lang: str, name: str) -> Any:
        try:
            return env.get_template(f"{lang}/{name}")
        except TemplateNotFound:
            return env.get_template(f"{FALLBACK}/{name}")

    def analysis_text(self, draft: Draft, language: str) -> str:
        """The analysis as plain text, in `language` (English when not translated)."""
        return self._template(self.env, language, "analysis.txt").render(d=draft).strip() + "\n"

    def task_message(self, task: Task, recipient: Recipient, area_name: str) -> Message:
        """The message announcing `task` to `recipient`."""
        lang = recipient.language
        ctx = {
            "task": task,
            "text": task.text(lang),
            "recipient": recipient,
            "area_name": area_name,
            "link": f"{self.public_url}/tasks/{task.id}",
            "exercise": task.exercise,
        }
        subject = self._template(self.env, lang, "task.subject.txt").render(ctx).strip()
        slack_text = self._template(self.slack_env, lang, "task.slack.txt").render(ctx).strip()
        # plain_text blocks are not mrkdwn: no escaping needed, but no links either.
        header = self._template(self.env, lang, "task.slack_header.txt").render(ctx).strip()
        blocks: list[dict[str, object]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_text[:3000]}},
            {
                "type": "actions",
                "block_id": f"task:{task.id}",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open task"},
                        "url": ctx["link"],
                        "action_id": "open",
                    },
                ],
            },
        ]
        return Message(
            key=f"{task.id}.{recipient.id}",
            recipient=recipient,
            subject=subject,
            text=self._template(self.env, lang, "task.txt").render(ctx).strip() + "\n",
            html=self._template(self.env, lang, "task.html").render(ctx),
            slack_text=slack_text,
            slack_blocks=blocks,
            exercise=task.exercise,
        )
