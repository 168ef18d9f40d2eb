"""Log lines that input cannot forge: control characters escaped, continuation lines indented.

Signal ids, summaries and names come from outside and end up in log messages and in
exception texts. A CR/LF would let them write a line that looks like Concord's own, an
ANSI escape would repaint the operator's terminal. `install()` makes every log record
(whatever handler or formatter Faust sets up later) a `SafeRecord`, whose text, when a
handler formats it:

- has every control character but the line feed and the tab escaped (`\\x1b`, `\\r`,
  `\\u2028`),
- in records of Concord's own loggers, has line feeds inside the arguments escaped as
  well (the data; the message format is ours),
- has every line after the first indented, tracebacks included, so no input can start a
  line of its own.

The work is done when a record is formatted, not when it is made: a debug record that
no handler emits costs nothing extra.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_CONTROL_AND_NEWLINE = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
INDENT = "\n    "


def _code(match: re.Match[str]) -> str:
    n = ord(match.group())
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def escape(text: str) -> str:
    """Every control character (line feeds included) as a visible escape."""
    return _CONTROL_AND_NEWLINE.sub(_code, text)


def _lines(text: str) -> str:
    return _CONTROL.sub(_code, text).rstrip("\n").replace("\n", INDENT)


def _arg(value: Any) -> Any:
    return escape(value) if isinstance(value, str) else value


class SafeRecord(logging.LogRecord):
    """A log record whose text cannot forge lines (see the module)."""

    def getMessage(self) -> str:
        """The message with control characters escaped and continuation lines indented."""
        args = self.args
        if self.name.startswith("concord") and args:
            if isinstance(args, tuple):
                args = tuple(_arg(a) for a in args)
            elif isinstance(args, dict):
                args = {k: _arg(v) for k, v in args.items()}
        msg = str(self.msg)
        if args:
            try:
                msg = msg % args
            except (TypeError, ValueError):
                msg = f"{msg} {args!r}"
        return _lines(msg)

    @property
    def exc_text(self) -> str | None:
        """The traceback text, its lines indented so none reads as a log line of its own."""
        return self.__dict__.get("_exc_text")

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        # A formatter renders the traceback once and stores it here: indent it as well.
        self.__dict__["_exc_text"] = None if value is None else "    " + _lines(value)


def install() -> None:
    """Make every log record a `SafeRecord` (once per process)."""
    if logging.getLogRecordFactory() is SafeRecord:
        return
    logging.setLogRecordFactory(SafeRecord)
