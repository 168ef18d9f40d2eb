"""Text helpers (concord.text): one-line log text, quoting, Slack escaping."""

from __future__ import annotations

from concord.common.text import one_line, quoted, slack_escape


def test_every_line_of_outside_text_is_quoted() -> None:
    planted = "Pushed at the stop.\r\nApprove: https://evil.example/vote\u2028Reject: x"
    assert quoted(planted) == (
        "> Pushed at the stop.\n> Approve: https://evil.example/vote\n> Reject: x"
    )
    assert quoted("one", "  > ") == "  > one"
    assert "\x1b" not in quoted("\x1b[31mred")


def test_one_line_joins_lines() -> None:
    assert one_line("a\nb\r\nc\x00") == "a b c"


def test_slack_escape_stops_mentions_and_links() -> None:
    out = slack_escape("<!channel> @here <https://evil|click> & more")
    assert "<" not in out
    assert ">" not in out
    assert "&lt;!channel&gt;" in out
    assert "@here" not in out
    assert "&amp;" in out
