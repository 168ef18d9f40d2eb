"""Properties of the pure flow (intake, correlation, decisions, planning) over arbitrary input.

Whatever a producer sends, intake answers a signal or a refusal, never an exception; and
whatever valid signals arrive, in whatever order, correlation, the decisions and planning
process every one of them (a crash there once lost a signal silently).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from concord.common.text import neutral
from concord.core import intake
from concord.core.refusal import Refused
from concord.dryrun.flow import Simulator
from concord.playbooks.loader import load_playbooks
from concord.streams.signals import Bias, Category, Kind, SignalIn
from tests.unit.factories import DIRECTORY

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = load_playbooks([ROOT / "playbooks"], DIRECTORY)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
AREAS = [a.code for a in DIRECTORY.areas]
TAGS = ["school", "housing", "place-of-worship", "demonstration", "provider-acme", "x"]

persons = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["victim", "witness", "reporter"]),
            "name": st.text(max_size=30),
            "contact": st.text(max_size=30),
            "consent_to_share": st.booleans(),
        }
    ),
    max_size=3,
)

signals = st.fixed_dictionaries(
    {
        "id": st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=20),
        "kind": st.sampled_from([k.value for k in Kind]),
        "category": st.sampled_from([c.value for c in Category]),
        "bias": st.lists(st.sampled_from([b.value for b in Bias]), max_size=3),
        "severity": st.integers(1, 5),
        "occurred_at": st.datetimes(
            min_value=datetime(1970, 1, 2), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)
        ).map(lambda d: d.isoformat()),
        "area": st.sampled_from(AREAS),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["ngo", "school", "police", "public"]), "name": st.just("S")}
        ),
        # A summary of control characters only is empty once they are dropped: refused.
        "summary": st.text(min_size=1, max_size=200).filter(lambda s: neutral(s).strip()),
        "persons": persons,
        "exercise": st.booleans(),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3),
    }
)


def as_json_value() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
        max_leaves=20,
    )


@given(st.binary(max_size=500))
def test_intake_answers_any_bytes(raw: bytes) -> None:
    assert isinstance(intake.parse(raw, DIRECTORY), SignalIn | Refused)


@given(st.one_of(as_json_value(), signals, signals.map(lambda s: {**s, "extra": 1})))
def test_intake_answers_any_json(value: Any) -> None:
    import json

    try:
        raw = json.dumps(value).encode()
    except ValueError:
        return
    assert isinstance(intake.parse(raw, DIRECTORY), SignalIn | Refused)


@settings(max_examples=60)
@given(st.lists(signals, min_size=1, max_size=12))
def test_every_valid_signal_goes_through_correlation_decisions_and_planning(
    batch: list[dict[str, Any]],
) -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    seen: set[str] = set()
    for raw in batch:
        signal = SignalIn.model_validate(raw)
        step = sim.feed(signal, NOW)
        if signal.id in seen:
            continue
        seen.add(signal.id)
        assert step is not None
        assert signal.id in {r.id for r in step.situation.signals}
        assert not step.errors, step.errors
        refs = {r.id: r for r in step.situation.signals}
        for decision in step.situation.matches:
            # A playbook fires on signals of its situation, and its tasks name where they
            # happened and answer only them.
            assert decision.signals
            assert set(decision.signals) <= set(refs)
        for tasks in step.tasks.values():
            for task in tasks:
                assert set(task.signals) <= set(refs)
                assert task.areas == list(dict.fromkeys(refs[s].area for s in task.signals))
                assert task.area == task.areas[-1]
