"""Publish: situation, task and review snapshots, and signals -> events for the webhook
subscribers of the directory -> `concord.outgoing` (the delivery stage sends them, each
subscriber its own lane).

Registered only when the directory has subscriptions: without them the flow pays
nothing. The rules are `concord.core.publish`; this agent keeps what it last told about
each situation, task and review (the `published` table) and posts the messages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust

from concord.agents.stage import consume
from concord.common.types import utcnow
from concord.config.channels import Subscription
from concord.config.directory import Directory
from concord.core import cap, publish
from concord.notifiers.recipients import subscriber
from concord.streams.signals import Signal
from concord.streams.situations import Situation
from concord.streams.tables import Shape, Table
from concord.streams.topics import Topic
from concord.worker.runtime import Flow


@dataclass
class Publishing:
    """What the publish stage reads and writes."""

    flow: Flow
    directory: Directory
    sender: str
    #: `core.publish.remembered_as` -> what was last told about it
    published: Table[str]
    #: a code in words, and a sentence, in a language (the catalogues; `create_app`)
    words: Callable[[str, str], str] = lambda code, language: code
    say: Callable[[str, str], str] = lambda message, language: message

    def cap(self, situation: Situation, kind: cap.MsgType) -> str:
        """The CAP 1.2 alert of a situation."""
        return cap.of_situation(situation, kind, self.directory, self.sender, self.words, self.say)

    async def tell(self, happened: list[publish.Happened]) -> None:
        """Post one message per event and subscriber that wants it."""
        if not happened:
            return
        hooks: list[Subscription] = self.directory.webhooks
        for outgoing in publish.deliveries(happened, hooks, subscriber, self.cap, utcnow()):
            await self.flow.post(outgoing)


async def snapshot(s: Publishing, item: publish.Snapshot) -> None:
    """A snapshot: the events it makes, then what to remember."""
    key = publish.remembered_as(item)
    seen, happened = publish.handle(s.published.get(key), item)
    await s.tell(happened)
    s.published[key] = seen


async def run(s: Publishing, topic: Topic[Any], stream: Any) -> None:
    """The publish stage's loop over one snapshot topic."""
    await consume(s.flow, "publish", topic, stream, functools.partial(snapshot, s))


async def run_reports(s: Publishing, stream: Any) -> None:
    """The publish stage's loop over `concord.signals` (reports received)."""

    async def one(signal: Signal) -> None:
        await s.tell(publish.of_report(signal))

    await consume(s.flow, "publish", s.flow.topics.signals, stream, one)


def takes(directory: Directory, about: str) -> bool:
    """Whether a subscriber of the directory takes events about `about` (situation, task,
    review, report): the stage reads that topic only then."""
    return any(event.split(".")[0] == about for hook in directory.webhooks for event in hook.events)


def register(
    app: faust.App, flow: Flow, directory: Directory, sender: str, shape: Shape
) -> Publishing | None:
    """Bind the stage's agents when the directory has subscriptions (None otherwise)."""
    hooks = directory.webhooks
    if not hooks:
        return None
    table: Table[str] = Table(app, "published", str, shape)
    s = Publishing(flow, directory, sender, table)
    # Only the topics some subscriber wants events of are read.
    sources: list[tuple[Topic[Any], str]] = [
        (flow.topics.situations, "situation"),
        (flow.topics.task_state, "task"),
        (flow.topics.reviews, "review"),
    ]
    for topic, about in sources:
        if takes(directory, about):
            agent = functools.partial(run, s, topic)
            app.agent(topic.channel, name=f"concord.publish.{about}s")(agent)
    if takes(directory, "report"):
        agent = functools.partial(run_reports, s)
        app.agent(flow.topics.signals.channel, name="concord.publish.reports")(agent)
    return s
