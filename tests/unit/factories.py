"""The unit tests' factories, in one place: the example directory, tasks, signals,
situations, and one correlation step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from pydantic import SecretStr

from concord.access.links import Signer
from concord.config.directory import Directory, load_directory
from concord.delivery.compose import Compose
from concord.notifiers.base import Recipient
from concord.notifiers.render import Renderer
from concord.playbooks.loader import PlaybookSet, load_playbooks
from concord.playbooks.schema import Playbook
from concord.streams.reviews import AnalysisVersion, ReviewRecord
from concord.streams.signals import Signal
from concord.streams.situations import SignalRef, Situation
from concord.streams.tasks import Task

ROOT = Path(__file__).resolve().parents[2]


def example_directory() -> Directory:
    """The example city's directory (`directory.yml`)."""
    return load_directory(ROOT / "directory.yml")


#: The example directory, loaded once for the modules that need it at import time.
DIRECTORY = example_directory()
#: A Monday, 12:00 in Brussels: the clock of the playbook-language tests.
MONDAY_NOON_UTC = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
#: The smallest task a playbook may carry.
TASK = {"id": "t", "agency": "police", "title": "T", "action": "a"}


def at(days: float = 0, hours: float = 0) -> datetime:
    """`MONDAY_NOON_UTC` shifted by days and hours."""
    return MONDAY_NOON_UTC + timedelta(days=days, hours=hours)


def playbook(pid: str = "p", **fields: Any) -> Playbook:
    """A playbook with one task and the given fields (`when`, `suppress`, ...)."""
    return Playbook.model_validate({"id": pid, "title": pid, "tasks": [TASK], **fields})


def make_task(**kw: Any) -> Task:
    """A police task assigned to police-duty; override any field."""
    at = datetime(2026, 5, 1, 8, tzinfo=UTC)
    base: dict[str, Any] = dict(
        id="task-1",
        situation_id="sit-1",
        playbook_id="p",
        playbook_version=1,
        task_key="k",
        agency="police",
        assignee="police-duty",
        title="t",
        action="a",
        area="north",
        category="hate_crime",
        severity=3,
        created_at=at,
        updated_at=at,
    )
    base.update(kw)
    return Task.model_validate(base)


def make_signal(**kw: Any) -> Signal:
    """A validated signal (an incident in the north); override any field."""
    base: dict[str, Any] = dict(
        id="s1",
        kind="incident",
        category="hate_crime",
        bias=[],
        severity=3,
        occurred_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        received_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        area="north",
        source_type="ngo",
        sealed="v2.k.sealed",
        summary_sealed="v2.k.scrubbed",
        language="en",
        exercise=False,
        tags=[],
    )
    base.update(kw)
    return Signal.model_validate(base)


def make_situation(
    category: str = "hate_crime",
    kind: str = "incident",
    severity: int = 3,
    bias: list[str] | None = None,
    area: str = "north",
    exercise: bool = False,
    tags: list[str] | None = None,
) -> Situation:
    """A one-signal situation in the north; override what matters."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Situation(
        id="sit-1",
        area=area,
        severity=severity,
        kinds=[kind],
        categories=[category],
        bias=bias or [],
        tags=tags or [],
        exercise=exercise,
        signals=[
            SignalRef(
                id="s",
                kind=kind,
                category=category,
                severity=severity,
                occurred_at=now,
                source_type="ngo",
                area=area,
                bias=bias or [],
                tags=tags or [],
            )
        ],
        opened_at=now,
        updated_at=now,
        last_signal="s",
    )


def step_area(state: Any, sig: Signal, rules: Any, now: datetime) -> Any:
    """One signal's step in an area with no neighbours (the area state after it)."""
    from concord.core.correlation import area_key, step

    key = area_key(sig.area, sig.exercise)
    moved = step({key: state}.get, sig, [], rules, now)
    return moved.states.get(key, state)


#: Just before DST starts in Brussels (01:30 local): the clock of the message tests.
MESSAGE_TIME = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def speaking(render: Renderer) -> Renderer:
    """The renderer, saying its words through the catalogues (as `create_app` does)."""
    from concord.web.i18n import Catalogues

    catalogues = Catalogues("Europe/Brussels")
    render.speak(catalogues.translations, catalogues.words)
    return render


#: A renderer for the city's time zone and a public URL, with the catalogues.
RENDER = speaking(Renderer("Europe/Brussels", "https://c.example/"))


def message_task(**kw: Any) -> Task:
    """A task whose texts try to break out of every format (HTML, mrkdwn, mentions)."""
    base: dict[str, Any] = dict(
        assignee="x",
        title="Check <b>site</b>",
        action="Go to <script>x</script> @channel <!here>",
        due=MESSAGE_TIME,
        created_at=MESSAGE_TIME,
        updated_at=MESSAGE_TIME,
    )
    return make_task(**{**base, **kw})


def make_recipient(lang: str = "en", **kw: str) -> Recipient:
    """Ann, reachable by email (and by whatever else is given)."""
    return Recipient(id="x", name="Ann", language=lang, email="ann@example.org", **kw)


def shipped_playbooks() -> PlaybookSet:
    """The playbooks that ship with Concord (`playbooks/`), for the example directory."""
    return load_playbooks([ROOT / "playbooks"], DIRECTORY)


def composer(render: Renderer) -> Compose:
    """What to send to whom, with a test signer and public URL."""
    return Compose(
        DIRECTORY, render, Signer(SecretStr("k" * 32)), "https://c.example/t/", timedelta(hours=24)
    )


def review_of(situation: Situation, now: datetime) -> ReviewRecord:
    """The panel's review of a situation, opened at `now` with its first version."""
    first = AnalysisVersion(
        version=1, at=now, by="concord", severity=situation.severity, proposals=[]
    )
    return ReviewRecord(
        situation_id=situation.id,
        area=situation.area,
        situation=situation,
        opened_at=now,
        versions=[first],
        updated_at=now,
    )


def carried(compose: Compose, task: Task, now: datetime) -> list[str]:
    """What a task's message carries to its carriers: the request on `concord.outgoing`
    and, for an e-mail recipient, the message as sent (MIME)."""
    from concord.notifiers.email import EmailNotifier

    outgoing = compose.task_message(task, now)
    if outgoing is None:
        return []
    from concord.notifiers import chat, matrix, teams

    message = outgoing.message
    out = [outgoing.model_dump_json()]
    if message.recipient.email:
        out.append(EmailNotifier("h", 25, "c@city.example").build(message).as_string())
    # What the chat channels would post (their wire payloads).
    out += [json.dumps(teams.envelope(message)), json.dumps(chat.payload(message))]
    out.append(json.dumps(matrix.content(message)))
    return out


def html(response: Any) -> str:
    """The text of a page a view rendered (Faust's `Response` is aiohttp's)."""
    return str(cast(web.Response, response).text or "")


class Clock:
    """A clock a test moves by hand (`clock.now += 60`)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FaustTable(dict[str, Any]):
    """A Faust table stand-in: a dict, with the recovery hook `streams.tables.Table`
    registers (the tests that need it called use their own)."""

    def on_recover(self, fun: Any) -> None:
        """Faust calls `fun` after each recovery of the table; no recovery here."""


class FaustApp:
    """What `streams.tables.Table` asks of a Faust app: its tables (dicts), and the
    consumer's generation (a rebalance makes a new one)."""

    consumer_generation_id = 0

    def Table(self, *args: Any, **kwargs: Any) -> FaustTable:
        return FaustTable()
