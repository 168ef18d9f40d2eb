"""The publish stage's wiring (concord.agents.publish): it reads a topic only when a
subscriber takes its events; the track stage writes task snapshots only then."""

from __future__ import annotations

from typing import Any, cast

import pytest

from concord.agents.publish import takes
from concord.common.secrets import SecretRef
from concord.config.channels import Subscription
from concord.config.directory import Directory

SECRET = SecretRef(env="HOOK_SECRET")


class Hooks:
    def __init__(self, *events: list[str]) -> None:
        self.webhooks = [
            Subscription(id=f"s{i}", url="https://s.example", secret=SECRET, events=cast(Any, e))
            for i, e in enumerate(events)
        ]


@pytest.mark.parametrize(
    ("events", "about", "taken"),
    [
        ([], "task", False),  # no subscriber
        ([["situation.opened"]], "task", False),
        ([["situation.opened"], ["task.done"]], "task", True),
        ([["task.created", "task.done"]], "situation", False),
        ([["report.received"]], "report", True),
        ([["review.decided"]], "review", True),
    ],
)
def test_a_topic_is_read_only_when_a_subscriber_takes_its_events(
    events: list[list[str]], about: str, taken: bool
) -> None:
    assert takes(cast(Directory, Hooks(*events)), about) is taken
