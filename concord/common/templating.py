"""Every jinja2 environment Concord renders with, made here and nowhere else.

- `files`: templates that ship with Concord (pages, emails, Slack messages): StrictUndefined
  (a missing value is an error, not an empty string), HTML autoescaped in `.html`
  templates, and the filters every template may use: `localtime` (the city's time zone)
  and `quoted` (someone else's words, marked as a quote in plain text).
- `sandbox`: operators' templates (a playbook task's `action`): sandboxed, strict, not
  escaped (the result is escaped by whoever shows it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from concord.common.text import quoted

#: How a time shows in every page and message.
TIME_FORMAT = "%Y-%m-%d %H:%M"


def localtime_filter(timezone: str, missing: str = "") -> Callable[[datetime | None], str]:
    """`{{ at|localtime }}`: the time in the city's zone, `missing` for none."""
    tz = ZoneInfo(timezone)

    def localtime(value: datetime | None) -> str:
        return value.astimezone(tz).strftime(TIME_FORMAT) if value else missing

    return localtime


def files(
    folder: Path,
    timezone: str,
    *,
    escape: bool = True,
    missing: str = "",
    finalize: Callable[[Any], Any] | None = None,
    gettext: bool = False,
) -> Environment:
    """An environment for the templates in `folder` (see the module).

    `escape`: autoescape `.html` templates (False for Slack's mrkdwn, escaped by
    `finalize` instead); `missing`: what `localtime` shows for no time; `gettext`: the
    i18n extension (`_()` in templates; the pages install a catalogue per render)."""
    options: dict[str, Any] = {}
    if finalize is not None:
        options["finalize"] = finalize
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        # The templates ship with Concord: no file system check before every render.
        auto_reload=False,
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]) if escape else False,
        extensions=["jinja2.ext.i18n"] if gettext else [],
        **options,
    )
    env.filters["localtime"] = localtime_filter(timezone, missing)
    env.filters["quoted"] = quoted
    return env


@functools.cache
def sandbox() -> SandboxedEnvironment:
    """The environment for operators' templates (made once; it holds no state)."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
