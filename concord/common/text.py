"""Outside text made safe for where it goes: Slack mrkdwn, plain-text messages, one line.

Report summaries, notes and reasons come from outside. Pure functions, used by the
templates of tasks, notices and panel messages.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_SLACK_SPECIAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def slack_escape(text: str) -> str:
    """Escape text for Slack mrkdwn: no links, user/channel mentions or broadcasts."""
    text = text.translate(_SLACK_SPECIAL)
    # A zero-width joiner keeps "@channel" readable but stops it from notifying anyone.
    return _MENTION.sub(lambda m: "@\u200d" + m.group(1), text)


#: What makes chat markup act rather than show: a mention (`@channel`, `@room`, `@all`,
#: `@user`), a Slack-style broadcast (`<!here>`), a Teams mention tag (`<at>`), a
#: Markdown link (`[text](url)`) or an HTML tag's start.
_CHAT_ACTIVE = re.compile(r"(@)(?=\w)|(<)(?=[!@#a-zA-Z/])|(\])(?=\()")
WORD_JOINER = "\u2060"


def chat_escape(text: str) -> str:
    """Text for chat Markdown (Teams cards, Mattermost, Rocket.Chat, Matrix's plain body):
    shown as written, never a mention, a broadcast, a link or a tag. An invisible word
    joiner goes between the sign and what would make it act."""
    return _CHAT_ACTIVE.sub(lambda m: m.group(0) + WORD_JOINER, text)


_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
#: Control characters (terminal escapes, NUL) and the marks that turn text around
#: (bidi overrides and isolates: `U+202E` makes `gpj.exe` read `exe.jpg`).
_CONTROL = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def neutral(text: str) -> str:
    """Free text as Concord keeps it: control characters and bidi marks dropped, every
    line break a `\\n`. Applied where text enters (signals, reports), so no page, message
    or log line downstream meets them."""
    return "\n".join(_BREAKS.split(_CONTROL.sub("", text)))


def quoted(text: str, prefix: str = "> ") -> str:
    """Outside text (a report's summary, a note, a reason) as a quoted block in plain text:
    every line starts with `prefix`, so no line of it can pass for one of Concord's own
    (a planted "Approve: <link>" reads as quoted text). Control characters are dropped."""
    lines = _BREAKS.split(_CONTROL.sub("", str(text)))
    return "\n".join(prefix + line for line in lines)


def one_line(text: str) -> str:
    """Outside text on one line (line breaks become spaces, control characters go)."""
    return " ".join(_BREAKS.split(_CONTROL.sub("", str(text))))


#: Text a person wrote (a summary, a name, a place, a reason): control characters and
#: bidi marks are dropped where it enters (`neutral`).
FreeText = Annotated[str, AfterValidator(neutral)]
