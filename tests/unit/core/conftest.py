"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from concord.config.directory import Directory
from concord.core.decisions import Rules
from concord.core.gate import handle, propose
from concord.core.gate_effects import Hold, MoveSituation, Notify
from concord.core.planning import plan_tasks
from concord.playbooks.loader import load_playbooks
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook
from concord.streams.reviews import ReviewEvent, ReviewRecord
from concord.streams.situations import Situation, SituationState
from tests.unit.core.reviewing import PANEL, T0
from tests.unit.factories import DIRECTORY, ROOT


@pytest.fixture(scope="module")
def rules() -> Rules:
    """Correlation rules with no playbook and a 24 h window."""
    return Rules(Matcher([], DIRECTORY), timedelta(hours=24))


@pytest.fixture(scope="module")
def playbooks(directory: Directory) -> dict[str, Playbook]:
    """The repository's playbooks, by id."""
    loaded = load_playbooks([ROOT / "playbooks"], directory)
    return {p.id: p for p in loaded.playbooks}


@pytest.fixture
def opened(
    situation_factory: Callable[..., Situation],
    playbooks: dict[str, Playbook],
    directory: Directory,
) -> ReviewRecord:
    """A review the racist-assault playbook opened at T0 (version 1, the panel told)."""
    situation = situation_factory(severity=4)
    pb = playbooks["racist-assault"]
    event = ReviewEvent(
        situation_id=situation.id,
        kind="open",
        situation=situation,
        proposal=propose(pb, plan_tasks(situation, pb, directory, T0)),
    )
    record, effects = handle(None, event, PANEL, T0)
    assert record is not None
    kinds = [type(e) for e in effects]
    assert kinds == [Hold, MoveSituation, Notify]
    assert all(t.awaiting == "panel" for t in effects[0].tasks)  # type: ignore[union-attr]
    assert effects[1] == MoveSituation(
        SituationState.under_review, "racist-assault needs the panel"
    )
    assert record.deadline == T0 + timedelta(hours=2)
    return record
