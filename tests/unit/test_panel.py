"""The panel's review rules, the tension level and the situation lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from concord.core.lifecycle import ALLOWED, IllegalTransition, move
from concord.core.tally import Decision, ReviewError, Vote, check_vote, tally
from concord.core.tension import tension
from concord.streams.situations import SignalRef, SituationState

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
PANEL = ["ana", "koen", "lea"]


def vote(member: str, decision: str, version: int = 1, minutes: int = 0, reason: str = "r") -> Vote:
    return Vote(
        member=member,
        decision=Decision(decision),
        version=version,
        reason=reason,
        at=T0 + timedelta(minutes=minutes),
    )


def test_quorum_of_approvals_on_the_current_version() -> None:
    assert tally([vote("ana", "approve")], 1, 2, PANEL).outcome == "pending"
    t = tally([vote("ana", "approve"), vote("koen", "approve")], 1, 2, PANEL)
    assert (t.outcome, t.approvals, t.missing) == ("approved", ["ana", "koen"], 0)
    # Votes on an older version do not count for an amended one.
    t = tally([vote("ana", "approve", 1), vote("koen", "approve", 2)], 2, 2, PANEL)
    assert (t.outcome, t.approvals) == ("pending", ["koen"])


def test_an_amendment_approves_the_version_it_makes() -> None:
    votes = [vote("ana", "amend", 2), vote("koen", "approve", 2)]
    assert tally(votes, 2, 2, PANEL).outcome == "approved"


def test_rejection_dissent_and_the_latest_vote_counting() -> None:
    votes = [
        vote("ana", "reject", reason="the analysis ignores the rumour"),
        vote("koen", "reject"),
        vote("lea", "approve"),
    ]
    t = tally(votes, 1, 2, PANEL)
    assert t.outcome == "rejected"
    assert [(v.member, v.decision) for v in t.dissent] == [("lea", Decision.approve)]
    # Ana changes her mind later: her latest vote counts.
    t = tally([*votes, vote("ana", "approve", minutes=5)], 1, 2, PANEL)
    assert t.outcome == "approved" and [v.member for v in t.dissent] == ["koen"]
    # Two rejections of three leave one possible approval: quorum 2 cannot be reached.
    assert tally(votes[:2], 1, 2, PANEL).outcome == "rejected"
    # Once decided, a later vote is counted and its dissent kept; the decision stays.
    late = [*votes[:2], vote("lea", "approve", minutes=9), vote("ana", "approve", minutes=10)]
    t = tally(late, 1, 2, PANEL, decided="rejected")
    assert t.outcome == "rejected" and t.approvals == ["ana", "lea"]
    assert [v.member for v in t.dissent] == ["ana", "lea"]


def test_conflicts_do_not_count_and_can_leave_no_quorum() -> None:
    votes = [vote("ana", "conflict"), vote("koen", "approve")]
    t = tally(votes, 1, 2, PANEL)
    assert (t.outcome, t.conflicts, t.approvals) == ("pending", ["ana"], ["koen"])
    assert tally([*votes, vote("lea", "approve")], 1, 2, PANEL).outcome == "approved"
    both = [vote("ana", "conflict"), vote("koen", "conflict")]
    assert tally(both, 1, 2, PANEL).outcome == "no_quorum"
    assert tally([vote("mallory", "approve"), vote("eve", "approve")], 1, 2, PANEL).approvals == []


def test_votes_that_cannot_be_taken() -> None:
    with pytest.raises(ReviewError, match="version 3 does not exist"):
        check_vote(vote("ana", "approve", 3), [], 2)
    with pytest.raises(ReviewError, match="vote on version 2"):
        check_vote(vote("ana", "approve", 1), [], 2)
    with pytest.raises(ReviewError, match="needs a reason"):
        check_vote(vote("ana", "reject", reason=" "), [], 1)
    with pytest.raises(ReviewError, match="conflict of interest"):
        check_vote(vote("ana", "approve", minutes=1), [vote("ana", "conflict")], 1)
    check_vote(vote("ana", "conflict", 1), [], 2)  # a conflict may name any version


def ref(source: str, severity: int, age_days: float = 0, kind: str = "incident") -> SignalRef:
    return SignalRef(
        id=f"{source}{severity}{age_days}",
        kind=kind,
        category="hate_crime",
        severity=severity,
        occurred_at=T0 - timedelta(days=age_days),
        source_type=source,
        summary="s",
    )


def test_tension_levels_follow_the_documented_rules() -> None:
    assert tension([ref("police", 4)], T0).level == "moderate"  # 4.0
    assert tension([ref("public", 4)], T0).level == "low"  # 2.4: an anonymous report
    two = tension([ref("police", 4), ref("ngo", 4)], T0)
    assert (two.score, two.level) == (9.5, "high")  # (4 + 3.6) x 1.25
    three = tension([ref("police", 4), ref("ngo", 4), ref("school", 4)], T0)
    assert three.level == "critical"  # (4 + 3.6 + 3.6) x 1.5 = 16.8
    # The same three reports a week ago have cooled down (half-life 3 days).
    old = tension([ref("police", 4, 7), ref("ngo", 4, 7), ref("school", 4, 7)], T0)
    assert old.level == "low" and old.score == pytest.approx(16.8 * 0.5 ** (7 / 3), 0.01)
    # Three reports from one source are not corroboration.
    same = tension([ref("ngo", 4), ref("ngo", 4), ref("ngo", 4)], T0)
    assert same.score == pytest.approx(10.8) and same.level == "high"


def test_lifecycle_transitions_are_exactly_the_allowed_ones(situation_factory) -> None:  # type: ignore[no-untyped-def]
    for current, wanted in product(SituationState, SituationState):
        s = situation_factory().model_copy(update={"state": current})
        if current == wanted:
            assert move(s, wanted, T0) is s
        elif wanted in ALLOWED[current]:
            assert move(s, wanted, T0).state == wanted
        else:
            with pytest.raises(IllegalTransition, match=f"is {current}: it cannot become"):
                move(s, wanted, T0)
    assert ALLOWED[SituationState.closed] == frozenset()


def test_the_analysis_draft_gathers_the_facts_and_renders_per_language() -> None:
    from pathlib import Path

    from concord.core.analysis import draft
    from concord.core.intake import validate_signal
    from concord.directory import load_directory
    from concord.notifiers.render import Renderer
    from concord.playbooks.loader import load_playbooks
    from concord.simulate import Simulator
    from concord.streams.signals import SignalIn

    root = Path(__file__).resolve().parents[2]
    directory = load_directory(root / "directory.yml")
    sim_set = load_playbooks([root / "playbooks"], directory)
    sim = Simulator(sim_set, directory, timedelta(1))
    base = {"area": "south", "bias": ["anti_muslim"], "summary": "Insults at the market"}
    signals = [
        {
            **base,
            "id": "old",
            "kind": "tension",
            "category": "rumour",
            "severity": 2,
            "occurred_at": (T0 - timedelta(days=20)).isoformat(),
            "source": {"type": "ngo", "name": "N"},
        },
        {
            **base,
            "id": "a",
            "kind": "incident",
            "category": "hate_crime",
            "severity": 4,
            "occurred_at": T0.isoformat(),
            "source": {"type": "police", "name": "P"},
            "summary": "Fatima Z. was spat on",
            "persons": [{"role": "victim", "name": "Fatima Z."}],
        },
    ]
    step = None
    for raw in signals:
        signal = validate_signal(raw, directory)
        assert isinstance(signal, SignalIn)
        step = sim.feed(signal, T0)
    assert step is not None
    from concord.core.gate import propose
    from concord.streams.reviews import AnalysisVersion

    version = AnalysisVersion(
        version=1,
        at=T0,
        by="concord",
        severity=4,
        proposals=[
            propose(
                next(p for p in sim_set.playbooks if p.id == "racist-assault"),
                step.tasks["racist-assault"],
            )
        ],
    )
    d = draft(step.situation, "Zuidwijk", version)
    assert (d.area_90_days, d.week_earlier, d.week_recent, d.trend) == (1, 0, 1, "rising")
    assert d.tension.level == "moderate" and d.signals[0].reliability == 1.0
    assert [(p.categories, p.signals) for p in d.previous] == [(["rumour"], 1)]
    assert [t.key for t in d.proposals[0].tasks] == ["protect", "support", "schools-watch"]
    assert d.proposals[0].tasks[0].urgent and d.proposals[0].tasks[0].due_in == "2h"
    text = Renderer("Europe/Brussels", "https://c.example").analysis_text(d, "fr")
    assert "Analyse de la situation" in text and "à Zuidwijk, gravité 4/5" in text
    assert "police : Secure the victim and the area, dans les 2h — URGENT" in text
    assert "source police (fiabilité 1.0)" in text
    assert "situation antérieure sit-" in text and "(rumour, gravité 2, 1 signalement(s)" in text
    assert "Fatima" not in text  # the summary that travels is scrubbed
