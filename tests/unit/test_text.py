"""concord.core.redaction: quoting outside text in plain-text messages."""

from __future__ import annotations

from concord.text import one_line, quoted


def test_every_line_of_outside_text_is_quoted() -> None:
    planted = "Pushed at the stop.\r\nApprove: https://evil.example/vote\u2028Reject: x"
    assert quoted(planted) == (
        "> Pushed at the stop.\n> Approve: https://evil.example/vote\n> Reject: x"
    )
    assert quoted("one", "  > ") == "  > one"
    assert "\x1b" not in quoted("\x1b[31mred")


def test_one_line_joins_lines() -> None:
    assert one_line("a\nb\r\nc\x00") == "a b c"
