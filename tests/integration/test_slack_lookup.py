"""After a crash mid-send, Concord asks Slack (conversations.history) before sending again."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from concord.embedded.slack_api import SlackApiServer
from concord.notifiers.base import Recipient
from concord.notifiers.render import Renderer
from concord.notifiers.slack import SlackNotifier
from tests.unit.factories import message_task as task

pytestmark = pytest.mark.integration


async def test_lookup_finds_only_the_message_that_was_sent(slack_server: SlackApiServer) -> None:
    notifier = SlackNotifier(SecretStr(slack_server.token), slack_server.url)
    render = Renderer("Europe/Brussels", "https://c.example")
    who = Recipient(id="r1", name="R", slack_channel="C-LOOKUP")
    sent_msg = render.task_message(task(id="task-sent"), who, "Nord")
    other_msg = render.task_message(task(id="task-never"), who, "Nord")
    assert await notifier.lookup(sent_msg) is None
    sent = await notifier.send(sent_msg)
    found = await notifier.lookup(sent_msg)
    assert found is not None
    assert found.provider_id == sent.provider_id
    assert await notifier.lookup(other_msg) is None
    bad = SlackNotifier(SecretStr("xoxb-wrong"), slack_server.url)
    assert await bad.lookup(sent_msg) is None  # cannot tell: the caller sends again
