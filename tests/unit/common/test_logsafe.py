"""concord.logsafe: input cannot forge log lines or repaint a terminal."""

from __future__ import annotations

import io
import logging

from concord.common import logsafe


def lines_of(logger: str, *args: object, exc: BaseException | None = None) -> list[str]:
    logsafe.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger(logger)
    log.addHandler(handler)
    log.propagate = False
    try:
        if exc is not None:
            try:
                raise exc
            except type(exc):
                log.exception("failed on %s", *args)
        else:
            log.warning("signal %s arrived", *args)
    finally:
        log.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_a_line_break_in_data_writes_no_line_of_its_own() -> None:
    forged = "x\n2026-12-01 INFO concord: the panel approved"
    lines = lines_of("concord.test", forged)
    assert lines == [
        "WARNING concord.test: signal x\\x0a2026-12-01 INFO concord: the panel approved arrived"
    ]


def test_terminal_escapes_and_carriage_returns_are_shown_not_obeyed() -> None:
    (line,) = lines_of("concord.test", "\x1b[2J\rerased")
    assert "\x1b" not in line
    assert "\r" not in line
    assert "\\x1b[2J\\x0derased" in line


def test_other_loggers_keep_their_lines_but_indented() -> None:
    lines = lines_of("faust.test", "a\nb")
    assert lines == ["WARNING faust.test: signal a", "    b arrived"]


def test_tracebacks_are_indented_whatever_the_exception_says() -> None:
    lines = lines_of("concord.test", "id", exc=ValueError("bad\nERROR concord: forged"))
    assert lines[0] == "ERROR concord.test: failed on id"
    assert all(line.startswith("    ") for line in lines[1:])
    assert any("forged" in line for line in lines[1:])
