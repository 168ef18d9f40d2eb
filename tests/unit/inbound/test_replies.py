"""The inbound mail handler's answers (concord.inbound.replies): a failure on Concord's
side is a temporary failure, so the sending server keeps the mail and tries again."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from concord.inbound.replies import TRY_LATER, Replies, temporarily
from concord.worker.acks import Unavailable

MAIL = b"From: vs@city.example\r\nMessage-ID: <r1@x>\r\nSubject: Re\r\n\r\nOK, je m'en occupe\r\n"


class BrokenReadModel:
    """The read model of a worker whose broker is gone."""

    @property
    def audit(self) -> Any:
        raise RuntimeError("broker gone")

    @property
    def tasks(self) -> Any:
        raise RuntimeError("broker gone")


def replies() -> Replies:
    nothing = cast(Any, None)
    broken = cast(Any, BrokenReadModel())
    return Replies(nothing, broken, cast(Any, SimpleNamespace()), nothing, b"k", "in.example")


def test_a_reply_that_cannot_be_taken_now_is_a_temporary_failure() -> None:
    envelope = SimpleNamespace(
        original_content=MAIL, content=MAIL, concord=("task-1", ("vs", "liaison", "victim-support"))
    )
    answer = asyncio.run(replies().handle_DATA(None, None, envelope))
    assert answer.startswith("451 4.3.0 ")


def test_a_recipient_that_cannot_be_checked_now_is_a_temporary_failure() -> None:
    envelope = SimpleNamespace(mail_from="vs@city.example", rcpt_tos=[])
    address = "task+0123456789ab.abcdefghijklmnop@in.example"
    answer = asyncio.run(replies().handle_RCPT(None, None, envelope, address, []))
    assert answer.startswith("451 4.3.0 ")
    assert envelope.rcpt_tos == []


def test_a_mail_the_broker_did_not_take_in_time_is_a_temporary_failure_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def step() -> str:
        raise Unavailable("the broker did not confirm within 10 s")

    answer = asyncio.run(temporarily(step(), "a reply to task-1"))
    assert answer == TRY_LATER
    assert answer.startswith("451 4.3.0 ")
    [logged] = [r for r in caplog.records if r.name == "concord.inbound.replies"]
    assert logged.levelname == "WARNING"
    assert logged.exc_info is None  # the broker's trouble, not a traceback
    assert "within 10 s" in logged.getMessage()
