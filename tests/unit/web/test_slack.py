"""concord.web.slack: what a signed Slack request may contain, replays, click times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from concord.web.slack import (
    BlockActions,
    OtherPayload,
    SlackAction,
    ViewSubmission,
    clicked_at,
    parse_payload,
    replay_guard,
)


def body(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_a_click_and_a_modal_submission_are_read() -> None:
    click = parse_payload(
        body(
            {
                "type": "block_actions",
                "user": {"id": "U-ANA"},
                "actions": [
                    {"action_id": "review.approve", "value": "sit-1|1", "action_ts": "1.5"}
                ],
                "trigger_id": "t",
                "team": {"id": "T1"},  # Slack sends much more: ignored
            }
        )
    )
    assert isinstance(click, BlockActions)
    assert click.actions[0].value == "sit-1|1"
    modal = parse_payload(
        body(
            {
                "type": "view_submission",
                "user": {"id": "U-SAM"},
                "view": {
                    "private_metadata": "task-1",
                    "state": {"values": {"reason": {"text": {"value": "on leave"}}}},
                },
            }
        )
    )
    assert isinstance(modal, ViewSubmission)
    assert modal.view.text("reason") == "on leave"
    assert isinstance(parse_payload(body({"type": "shortcut"})), OtherPayload)


def test_what_is_not_a_payload_is_none_never_an_error() -> None:
    for raw in (
        body([1, 2]),
        body("a string"),
        body({"type": "block_actions"}),  # no user
        body({"type": "block_actions", "user": "U1"}),
        body({"type": "view_submission", "user": {"id": "U"}, "view": []}),
        b"payload=%ff%fe",
        b"\xff\xfe",
        b"nothing=here",
        urlencode({"payload": "[" * 5000}).encode(),
    ):
        assert parse_payload(raw) is None, raw


def test_a_signed_request_is_taken_once_within_its_window() -> None:
    now = [1000.0]
    guard = replay_guard(clock=lambda: now[0])
    assert guard.first("v0=abc")
    assert not guard.first("v0=abc")
    assert guard.first("v0=def")
    now[0] += 301
    assert guard.first("v0=abc")  # its timestamp is stale by now: the signature check refuses it


def test_a_vote_is_dated_by_the_click_when_slack_says_when() -> None:
    recent = datetime.now(UTC) - timedelta(seconds=40)
    assert abs(clicked_at(SlackAction(action_ts=str(recent.timestamp()))) - recent) < timedelta(
        milliseconds=1
    )
    # No time, garbage, or a time outside the signature's 5 minutes: now.
    for ts in (None, "abc", "1.5", str((datetime.now(UTC) + timedelta(hours=1)).timestamp())):
        assert datetime.now(UTC) - clicked_at(SlackAction(action_ts=ts)) < timedelta(seconds=5)
