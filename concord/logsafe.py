"""Log lines that input cannot forge: control characters escaped, continuation lines indented.

Signal ids, summaries and names come from outside and end up in log messages and in
exception texts. A CR/LF would let them write a line that looks like Concord's own, an
ANSI escape would repaint the operator's terminal. `install()` puts a log-record factory
in place (it runs for every record that is emitted, whatever handler or formatter Faust
sets up later) that:

- escapes every control character but the line feed and the tab (`\\x1b`, `\\r`, `\\u2028`),
- in records of Concord's own loggers, escapes line feeds inside the arguments as well
  (the data; the message format is ours),
- indents every line after the first of a record, tracebacks included, so no input can
  start a line of its own.
"""

from __future__ import annotations

import logging
import re
import traceback
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


_installed = False


def install() -> None:
    """Install the record factory (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            if record.name.startswith("concord") and record.args:
                if isinstance(record.args, tuple):
                    record.args = tuple(_arg(a) for a in record.args)
                elif isinstance(record.args, dict):
                    record.args = {k: _arg(v) for k, v in record.args.items()}
            record.msg = _lines(record.getMessage())
            record.args = ()  # mode's formatter turns None into (None,)
            if record.exc_info and record.exc_info[1] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = INDENT.lstrip("\n") + _lines(text)
        except Exception:  # a log call must never break the code that makes it
            pass
        return record

    logging.setLogRecordFactory(factory)
