"""One contract, every channel: Slack, email, Teams, Matrix, Mattermost, Rocket.Chat and
webhooks, each against its local stand-in (Slack's Web API, aiosmtpd, and
`concord.embedded.standin` for the rest), which checks the wire format as the real
service would.

Every driver below says how to address a recipient on its channel, what arrived, and how
to make the next answer fail the way that service does. The same tests then hold for all:
the recipient's language, the drill's marking, no mention or markup from outside text,
no person, once per key across a resend, and which failures are worth another attempt.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from pydantic import SecretStr

from concord.common.secrets import SecretRef
from concord.embedded.net import free_port
from concord.embedded.outbox import Outbox
from concord.embedded.slack_api import SlackApiServer
from concord.embedded.smtp import SmtpCapture
from concord.embedded.standin import MATRIX_TOKEN, StandIn
from concord.notifiers import forms
from concord.notifiers.base import Message, Notifier, Recipient, SendError
from concord.notifiers.chat import WebhookChatNotifier
from concord.notifiers.email import EmailNotifier
from concord.notifiers.http import Addresses
from concord.notifiers.matrix import MatrixNotifier
from concord.notifiers.render import Renderer
from concord.notifiers.slack import SlackNotifier
from concord.notifiers.teams import TeamsNotifier
from concord.notifiers.webhook import WebhookNotifier
from concord.streams.delivery import Event
from concord.streams.tasks import TaskText
from tests.unit.factories import message_task, speaking

LINKS = {a: f"https://city.example/a/signed-{a}" for a in ("ack", "decline", "done")}
#: What outside text may try: mass mentions, a forged link, tags.
HOSTILE = "@channel @room @all @here <!here> [click](http://evil.example) <b>bold</b> <at>Bob</at>"
Dedupe = Literal["carrier", "lookup", "none"]


@dataclass
class Driver:
    """A channel under contract."""

    channel: str
    notifier: Notifier
    #: a recipient reachable on this channel, in a language
    recipient: Callable[[str], Recipient]
    #: what arrived at the stand-in since `mark`, as the wire carried it
    arrived: Callable[[], list[str]]
    #: what a person sees, after the carrier's own deduplication
    seen: Callable[[], int]
    #: the next answer fails with this HTTP-like status (and Retry-After)
    fail: Callable[[int, int | None], None]
    #: how a resend after a crash is kept from showing twice
    dedupe: Dedupe
    #: whether the carrier's 429 passes its Retry-After on
    retry_after: bool = True
    #: what of it the service reads as markup (default: all of it)
    rendered: Callable[[], list[str]] | None = None
    #: where the stand-ins keep what they got (set by the fixture)
    outbox: Outbox | None = None
    #: what would act rather than show, were outside text carried as written
    live: tuple[str, ...] = (
        "@channel",
        "@room",
        "@all",
        "@here",
        "<!here>",
        "](http://evil",
        "<at>",
        "<b>bold</b>",
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Outbox, StandIn, SlackApiServer, SmtpCapture]]:
    outbox = Outbox(limit=10_000)
    standin = StandIn(outbox).start()
    slack = SlackApiServer(outbox, token="xoxb-contract").start()
    smtp = SmtpCapture(outbox, port=free_port()).start()
    yield outbox, standin, slack, smtp
    standin.stop()
    slack.stop()
    smtp.stop()


RENDER = speaking(Renderer("Europe/Brussels", "https://city.example/"))
CHANNELS = ["slack", "email", "teams", "matrix", "mattermost", "rocketchat", "webhook"]


def _http_status(status: int) -> str:
    return {429: "ratelimited", 500: "internal_error", 404: "channel_not_found"}.get(
        status, "invalid_auth"
    )


def make_driver(channel: str, servers: Any, n: int) -> Driver:
    outbox, standin, slack, smtp = servers
    addresses = Addresses(standin.url)
    name = f"{channel.upper()}_{n}"  # each test its own address: nothing carries over
    room = f"!{name}:concord.local"

    def posts() -> list[Any]:
        return [p for p in outbox.posts(channel) if p.target in (name, room)]

    def post_seen() -> int:
        return len({p.key or id(p) for p in posts() if not p.duplicate and not p.problems})

    def standin_fail(status: int, after: int | None) -> None:
        standin.fail_next(channel, 1, status, after)

    ref = SecretRef(env=name)
    if channel in ("teams", "mattermost", "rocketchat"):
        field = {"teams": "teams_webhook"}.get(channel, f"{channel}_webhook")
        notifier: Notifier = (
            TeamsNotifier(addresses)
            if channel == "teams"
            else WebhookChatNotifier(channel, addresses)
        )
        return Driver(
            channel,
            notifier,
            lambda lang: Recipient(id="x", name="Ann", language=lang, **{field: ref}),
            lambda: [json.dumps(p.payload, ensure_ascii=False) for p in posts()],
            post_seen,
            standin_fail,
            "none",
        )
    if channel == "matrix":
        return Driver(
            channel,
            MatrixNotifier(standin.url, SecretStr(MATRIX_TOKEN)),
            lambda lang: Recipient(id="x", name="Ann", language=lang, matrix_room=room),
            lambda: [json.dumps(p.payload, ensure_ascii=False) for p in posts()],
            post_seen,
            standin_fail,
            "carrier",
            retry_after=False,  # mautrix does not pass the header on
        )
    if channel == "webhook":
        hook = Recipient(
            id=name,
            name=name,
            webhook_url=f"{standin.url}/webhook/{name}",
            webhook_secret=SecretRef(env="CONCORD_CONTRACT_UNSET_SECRET"),
        )
        return Driver(
            channel,
            WebhookNotifier(addresses),
            lambda lang: hook.model_copy(update={"language": lang}),
            lambda: [
                p.payload if isinstance(p.payload, str) else json.dumps(p.payload) for p in posts()
            ],
            post_seen,
            standin_fail,
            "carrier",
        )
    if channel == "slack":
        where = f"C-{name.upper()}"

        def slack_posts() -> list[Any]:
            return [
                c for c in outbox.slack("chat.postMessage") if c.payload.get("channel") == where
            ]

        return Driver(
            channel,
            SlackNotifier(SecretStr("xoxb-contract"), slack.url),
            lambda lang: Recipient(id="x", name="Ann", language=lang, slack_channel=where),
            lambda: [json.dumps(c.payload, ensure_ascii=False) for c in slack_posts()],
            lambda: len(slack_posts()),
            lambda status, after: slack.fail_next(
                1,
                _http_status(status),
                status=status if status >= 429 else 200,
                retry_after=after,
                channel=where,
            ),
            "lookup",
            rendered=lambda: [_mrkdwn(c.payload) for c in slack_posts()],
            live=("<!here>", "@channel", "@here", "<b>", "<at>", "<http"),
        )
    address = f"{name.lower()}@city.example"

    def mails() -> list[Any]:
        return [m for m in outbox.emails() if address in m.rcpt_to]

    return Driver(
        channel,
        EmailNotifier(smtp.host, smtp.port, "concord@city.example"),
        lambda lang: Recipient(id="x", name="Ann", language=lang, email=address),
        lambda: [m.raw.decode(errors="replace") + m.text + m.html for m in mails()],
        lambda: len({m.headers.get("Message-ID") for m in mails()}),
        lambda status, after: smtp.fail_next(
            1, "421 Try again later" if status in (429, 500) else "550 No such user here"
        ),
        "carrier",
        retry_after=False,  # SMTP has no Retry-After
        rendered=lambda: [m.html for m in mails()],  # the plain part shows as written
        live=("<b>bold</b>", "<at>", "<!here>", 'href="http://evil'),
    )


def _mrkdwn(payload: dict[str, Any]) -> str:
    """What Slack reads as markup: the text and every mrkdwn field (plain_text fields
    show as written)."""
    found = [str(payload.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload.get("blocks") or [])
    return "\n".join(found)


#: Each test's addresses are its own: nothing one test sent is seen by the next.
ADDRESSES = itertools.count(1)


@pytest.fixture(params=CHANNELS)
def driver(request: Any, servers: Any) -> Driver:
    made = make_driver(request.param, servers, next(ADDRESSES))
    made.outbox = servers[0]
    return made


def task_message(driver: Driver, lang: str = "en", **task: Any) -> Message:
    """A task's message for the driver's recipient, in its channel's forms only (what the
    delivery stage gets for a task on that channel alone); for a webhook, an event."""
    recipient = driver.recipient(lang)
    t = message_task(**task)
    if driver.channel != "webhook":
        kept = forms.of([driver.channel])
        return RENDER.task_message(t, recipient, "Centre-ville", LINKS, kept)
    data = {"task": t.id, "title": t.text(lang).title, "exercise": t.exercise}
    event = Event(
        id=f"evt-{t.id}",
        type="org.concord.task.created",
        subject=t.id,
        time=datetime(2026, 12, 6, tzinfo=UTC),
        data=data,
    )
    return Message(
        key=f"evt-{t.id}.{recipient.id}",
        recipient=recipient,
        subject=t.title,
        text="",
        exercise=t.exercise,
        event=event,
    )


def send(driver: Driver, message: Message) -> Any:
    async def go() -> Any:
        try:
            return await driver.notifier.send(message)
        finally:
            close = getattr(driver.notifier, "close", None)
            if close is not None:
                await close()

    return asyncio.run(go())


def wait_arrived(driver: Driver, count: int = 1) -> list[str]:
    """What arrived, once `count` messages have (the captures wake whoever waits)."""
    assert driver.outbox is not None
    return driver.outbox.wait_for(
        lambda o: len(got := driver.arrived()) >= count and got, timeout=5
    )


def test_a_message_arrives_in_the_wire_format_the_service_takes(driver: Driver) -> None:
    sent = send(driver, task_message(driver))
    assert sent.provider_id
    (wire,) = wait_arrived(driver)
    assert "Check" in wire  # the task's title, however the channel wraps it


def test_its_own_forms_carry_the_whole_message(driver: Driver) -> None:
    """A message rendered in its channel's forms only arrives as the message in every
    form would: nothing the carrier shows comes from a form left out."""
    if driver.channel == "webhook":
        pytest.skip("an event is built apart, not rendered")
    every = RENDER.task_message(message_task(), driver.recipient("en"), "Centre-ville", LINKS)
    own = task_message(driver)
    assert own != every  # some form was left out
    send(driver, every)
    send(driver, own.model_copy(update={"key": f"{own.key}-own"}))
    full, only = wait_arrived(driver, 2)

    def same(wire: str) -> str:  # what differs between any two sends of one message
        wire = wire.replace(f"{own.key}-own", own.key)
        return re.sub(r"^Date: .*$|=+\d+==|boundary=\"[^\"]*\"", "", wire, flags=re.M)

    assert same(only) == same(full)


@pytest.mark.parametrize(
    ("lang", "title", "words"),
    [
        ("fr", "Vérifier le site", ("Prendre en charge", "Bonjour Ann")),
        ("de", "Den Ort prüfen", ("Übernehmen", "Guten Tag Ann")),
    ],
)
def test_it_speaks_the_recipients_language(
    driver: Driver, lang: str, title: str, words: tuple[str, str]
) -> None:
    texts = {lang: TaskText(title=title, action="...")}
    send(driver, task_message(driver, lang, translations=texts))
    (wire,) = wait_arrived(driver)
    assert title in wire or json.dumps(title)[1:-1] in wire
    if driver.channel != "webhook":  # buttons or facts or greeting, from the catalogues
        assert any(w in wire or json.dumps(w)[1:-1] in wire for w in words), wire[:2000]


def test_a_drill_is_marked(driver: Driver) -> None:
    send(driver, task_message(driver, exercise=True))
    (wire,) = wait_arrived(driver)
    assert "EXERCISE" in wire or '"exercise": true' in wire


def test_outside_text_never_mentions_links_or_tags(driver: Driver) -> None:
    send(driver, task_message(driver, title=HOSTILE, action=HOSTILE))
    wait_arrived(driver)
    if driver.channel == "webhook":
        return  # JSON data for systems, not markup anyone renders
    (wire,) = (driver.rendered or driver.arrived)()
    for live in driver.live:
        assert live not in wire, f"{driver.channel} carries {live!r} as written"


def test_a_resend_after_a_crash_shows_once(driver: Driver) -> None:
    message = task_message(driver)
    send(driver, message)
    wait_arrived(driver)
    if driver.dedupe == "lookup":
        found = asyncio.run(driver.notifier.lookup(message))
        assert found is not None  # the stage finds it and does not send again
    elif driver.dedupe == "carrier":
        send(driver, message.model_copy(update={"resend": True}))
        assert driver.seen() == 1
    else:  # the carrier cannot tell: the stage knows only that it may be a duplicate
        assert asyncio.run(driver.notifier.lookup(message)) is None


@pytest.mark.parametrize("status", [429, 500])
def test_throttling_and_outages_are_worth_another_attempt(driver: Driver, status: int) -> None:
    driver.fail(status, 7)
    with pytest.raises(SendError) as failed:
        send(driver, task_message(driver))
    assert failed.value.retryable
    if status == 429 and driver.retry_after:
        assert failed.value.retry_after == 7
    send(driver, task_message(driver))  # the next attempt goes through
    assert driver.seen() == 1


def test_a_refusal_is_not_retried(driver: Driver) -> None:
    driver.fail(404, None)
    with pytest.raises(SendError) as failed:
        send(driver, task_message(driver))
    assert not failed.value.retryable


def test_an_unreachable_service_is_worth_another_attempt(driver: Driver) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    if driver.channel in ("teams", "mattermost", "rocketchat", "webhook"):
        message = task_message(driver)
        notifier: Notifier
        if driver.channel == "teams":
            notifier = TeamsNotifier(Addresses(dead))
        elif driver.channel == "webhook":
            notifier = WebhookNotifier(Addresses(dead))
            to = message.recipient.model_copy(update={"webhook_url": f"{dead}/webhook/x"})
            message = message.model_copy(update={"recipient": to})
        else:
            notifier = WebhookChatNotifier(driver.channel, Addresses(dead))
    elif driver.channel == "matrix":
        notifier, message = MatrixNotifier(dead, SecretStr("t")), task_message(driver)
    elif driver.channel == "slack":
        notifier, message = SlackNotifier(SecretStr("t"), f"{dead}/api/"), task_message(driver)
    else:
        notifier = EmailNotifier("127.0.0.1", free_port(), "c@city.example", timeout=2)
        message = task_message(driver)
    with pytest.raises(SendError) as failed:
        asyncio.run(notifier.send(message))
    assert failed.value.retryable


def test_the_buttons_are_the_signed_links(driver: Driver) -> None:
    if driver.channel == "webhook":
        pytest.skip("an event for a system has no buttons")
    send(driver, task_message(driver))
    (wire,) = wait_arrived(driver)
    if driver.channel == "slack":  # Slack calls back: buttons act through the interactivity
        assert "task.ack" in wire
        return
    for url in LINKS.values():  # GET on them asks to confirm; only a POST acts
        assert url in wire
