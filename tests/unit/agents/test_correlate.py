"""The correlate agent (concord.agents.correlate) correlates a signal and plans the
situation it publishes in one step: in-memory tables, topics that record what is sent,
the real directory and a real playbook."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from concord.agents import correlate, plan
from concord.config.directory import load_directory
from concord.core.correlation import AreaState, area_key, situation_id
from concord.notifiers.render import Renderer
from concord.streams.delivery import Outgoing
from concord.streams.situations import SituationCommand
from concord.streams.tables import Shape, Table
from concord.worker.live import LivePlaybooks
from concord.worker.metrics import Metrics
from concord.worker.runtime import Flow, Where
from tests.unit.agents.fakes import App, Topic
from tests.unit.factories import ROOT, composer, make_signal, speaking

PLAYBOOK = """
id: hate-crime
version: 1
title: Hate crime
when:
  kind: [incident]
  category: [hate_crime]
tasks:
  - id: record
    agency: police
    title: Record it
    action: Record the offence.
"""


@dataclass
class Topics:
    situations: Topic = field(default_factory=Topic)
    task_events: Topic = field(default_factory=Topic)
    review_events: Topic = field(default_factory=Topic)


class Observer:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@dataclass
class FakeFlow:
    topics: Topics = field(default_factory=Topics)
    metrics: Metrics = field(default_factory=Metrics)
    observer: Observer = field(default_factory=Observer)
    audits: list[tuple[str, str]] = field(default_factory=list)
    dead: list[tuple[str, Where, bytes, str]] = field(default_factory=list)
    posted: list[Outgoing] = field(default_factory=list)

    async def post(self, outgoing: Outgoing) -> None:
        self.posted.append(outgoing)

    async def deadletter(
        self, stage: str, at: Where, raw: bytes, reason: str, errors: Any, **kw: Any
    ) -> None:
        self.dead.append((stage, at, raw, reason))

    async def audit(self, actor: str, action: str, subject: str, **details: Any) -> None:
        self.audits.append((action, subject))


def stage(tmp_path: Path, playbook: str = PLAYBOOK) -> tuple[correlate.Correlation, FakeFlow]:
    directory = load_directory(ROOT / "directory.yml")
    (tmp_path / "hate-crime.yml").write_text(playbook)
    playbooks = LivePlaybooks(tmp_path, directory, timedelta(hours=24))
    assert playbooks.reload().ok
    fake = FakeFlow()
    flow = cast(Flow, fake)
    planning = plan.Planning(flow, directory, playbooks, Table(App(), "fired", int, Shape(1)))
    s = correlate.Correlation(
        flow,
        directory,
        playbooks,
        seen=Table(App(), "seen", str, Shape(1)),
        areas=Table(App(), "areas", AreaState, Shape(1)),
        planning=planning,
        compose=composer(speaking(Renderer("Europe/Brussels", "https://c.example"))),
    )
    return s, fake


def created(fake: FakeFlow) -> list[str]:
    return [key for key, event in fake.topics.task_events.sent if event.action == "created"]


async def test_a_signal_is_correlated_and_its_situation_planned_in_one_step(
    tmp_path: Path,
) -> None:
    s, fake = stage(tmp_path)
    await correlate.correlate_one(s, make_signal(id="s1"))
    situation = situation_id("s1", "north")
    assert [key for key, _ in fake.topics.situations.sent] == [situation]
    assert len(created(fake)) == 1
    assert ("playbook.fired", situation) in fake.audits
    # The same signal again (a producer's retry): nothing new.
    await correlate.correlate_one(s, make_signal(id="s1"))
    assert len(fake.topics.situations.sent) == 1
    assert len(created(fake)) == 1
    assert fake.audits.count(("playbook.fired", situation)) == 1


async def test_a_signal_whose_area_kept_it_but_not_the_seen_table_is_planned_again(
    tmp_path: Path,
) -> None:
    """A worker died after the area state's write reached the broker, and before the
    plan's records and the seen-table's write did: the batch is read again, the area
    holds the signal, and its situation is planned (what was missing is made)."""
    s, fake = stage(tmp_path)
    await correlate.correlate_one(s, make_signal(id="s1"))
    first = created(fake)
    fake.topics = Topics()  # the plan's records, lost
    s.seen.faust.clear()  # ... with the seen-table's write
    s.planning.fired.faust.clear()  # ... and the plan's table's
    await correlate.correlate_one(s, make_signal(id="s1"))
    assert created(fake) == first
    assert fake.topics.situations.sent == []  # its area's state did not change
    assert "s1" in s.seen
    # With the plan's table kept, nothing is made twice.
    s.seen.faust.clear()
    fake.topics = Topics()
    await correlate.correlate_one(s, make_signal(id="s1"))
    assert created(fake) == []


@dataclass
class Failing(Topic):
    """A topic whose first send fails (the broker went away)."""

    failed: bool = False

    async def send(self, key: str, value: Any) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("broker gone")
        await super().send(key, value)


async def test_the_signal_is_seen_only_once_its_plan_went(tmp_path: Path) -> None:
    """The seen-table is written last: a step that fails part-way leaves the signal
    unseen, and its replay (a dead letter put back) plans it."""
    s, fake = stage(tmp_path)
    fake.topics.task_events = Failing()
    with pytest.raises(ConnectionError):
        await correlate.correlate_one(s, make_signal(id="s1"))
    assert "s1" not in s.seen
    assert created(fake) == []
    await correlate.correlate_one(s, make_signal(id="s1"))
    assert len(created(fake)) == 1
    assert "s1" in s.seen


BY_ROLE = PLAYBOOK.replace("    agency: police\n", "    role: police\n")


async def test_a_plan_that_failed_is_made_when_its_dead_letter_is_replayed(
    tmp_path: Path,
) -> None:
    """The directory lost its police role (a bad edit): the playbook cannot plan, and its
    dead letter is a `plan` command for the situation, keyed by its zone. Once the
    directory is fixed, the replayed command plans it; replayed again, nothing more."""
    (tmp_path / "book").mkdir()
    s, fake = stage(tmp_path / "book", BY_ROLE)
    broken = tmp_path / "directory.yml"
    broken.write_text((ROOT / "directory.yml").read_text().replace("role: police", "role: housing"))
    s = replace(s, planning=replace(s.planning, directory=load_directory(broken)))
    await correlate.correlate_one(s, make_signal(id="s1"))
    assert created(fake) == []
    assert ("playbook.failed", situation_id("s1", "north")) in fake.audits
    [(stage_, where, raw, reason)] = fake.dead
    assert (stage_, where.topic, reason) == (
        "plan",
        "concord.situation-commands",
        "playbook failed",
    )
    assert where.key == s.directory.zone("north")
    command = SituationCommand.model_validate_json(raw)
    assert (command.action, command.situation_id) == ("plan", situation_id("s1", "north"))
    # Replayed before the fix: it fails again, with a dead letter of its own.
    await correlate.command_one(s, command)
    assert created(fake) == []
    assert len(fake.dead) == 2
    # Fixed, and replayed: planned, once.
    s = replace(s, planning=replace(s.planning, directory=s.directory))
    await correlate.command_one(s, command)
    assert len(created(fake)) == 1
    await correlate.command_one(s, command)
    assert len(created(fake)) == 1
    # A situation no longer open is refused, and said so.
    gone = command.model_copy(update={"situation_id": "sit-gone"})
    await correlate.command_one(s, gone)
    assert ("situation.refused", "sit-gone") in fake.audits


async def test_a_signal_that_would_take_its_area_state_past_a_record_is_refused_whole(
    tmp_path: Path,
) -> None:
    """A burst of reports of one incident grows one situation; the signal that would take
    the area's state past what one record holds is refused before anything is written
    (the stage makes it a dead letter), and goes through once a coordinator has closed
    the situation. The write used to fail in the producer and stop the worker."""
    s, fake = stage(tmp_path)
    s = replace(s, most_bytes=12_000)
    key = area_key("north", False)
    joined, refusal = 0, ""
    for i in range(1, 200):
        at = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(minutes=i)
        try:
            await correlate.correlate_one(s, make_signal(id=f"s{i}", occurred_at=at))
        except correlate.AreaFull as exc:
            refusal = str(exc)
            break
        joined = i
    assert 5 < joined < 199
    assert f"the state of {key} would weigh" in refusal
    assert "close or split" in refusal
    refused = f"s{joined + 1}"
    state = s.areas.get(key)
    assert state is not None
    assert state.situation is not None
    assert len(state.situation.signals) == joined  # nothing of the refused signal
    assert refused not in s.seen
    assert len(s.areas.encode(state)) <= 12_000
    # The coordinators are told once, in their language, with a link to the situation.
    (told,) = fake.posted
    assert told.message.recipient.id == "coord"
    assert told.message.subject == f"[Concord] Complet : Quartier Nord, {joined} signalements"
    assert f"https://c.example/board/{state.situation.id}" in told.message.text
    assert "concord deadletter replay --all" in told.message.text
    assert ("area.full", state.situation.id) in fake.audits
    later = make_signal(id="later", occurred_at=datetime(2026, 1, 1, 15, tzinfo=UTC))
    with pytest.raises(correlate.AreaFull):
        await correlate.correlate_one(s, later)
    assert len(fake.posted) == 1  # not again for every report
    published = len(fake.topics.situations.sent)
    # The coordinator closes the situation: the signal, replayed, opens a new one.
    close = SituationCommand(
        situation_id=state.situation.id, key=key, action="state", to="closed", actor="coord"
    )
    await correlate.command_one(s, close)
    assert correlate.full_marker(key) not in s.planning.fired  # the next fill is told
    at = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(minutes=joined + 1)
    await correlate.correlate_one(s, make_signal(id=refused, occurred_at=at))
    assert refused in s.seen
    assert len(fake.topics.situations.sent) == published + 2  # closed, then the new one
    after = s.areas.get(key)
    assert after is not None
    assert after.situation is not None
    assert [r.id for r in after.situation.signals] == [refused]


async def test_a_command_that_would_take_its_area_state_past_a_record_is_refused_and_audited(
    tmp_path: Path,
) -> None:
    s, fake = stage(tmp_path)
    await correlate.correlate_one(s, make_signal(id="s1"))
    key = area_key("north", False)
    before = s.areas.get(key)
    assert before is not None
    assert before.situation is not None
    s = replace(s, most_bytes=100)
    move = SituationCommand(
        situation_id=before.situation.id, key=key, action="state", to="monitoring", actor="c"
    )
    await correlate.command_one(s, move)
    assert s.areas.get(key) == before
    assert ("situation.refused", before.situation.id) in fake.audits
