"""The situation analysis the panel reviews (concord.core.analysis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_the_analysis_draft_gathers_the_facts_and_renders_per_language() -> None:
    from pathlib import Path

    from concord.config.directory import load_directory
    from concord.core.analysis import draft
    from concord.core.intake import validate_signal
    from concord.dryrun.flow import Simulator
    from concord.notifiers.render import Renderer
    from concord.playbooks.loader import load_playbooks
    from concord.streams.signals import SignalIn
    from tests.unit.factories import speaking

    root = Path(__file__).resolve().parents[3]
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
    assert d.tension.level == "moderate"
    assert d.signals[0].reliability == 1.0
    assert [(p.categories, p.signals) for p in d.previous] == [(["rumour"], 1)]
    assert [t.key for t in d.proposals[0].tasks] == ["protect", "support", "schools-watch"]
    assert d.proposals[0].tasks[0].urgent
    assert d.proposals[0].tasks[0].due_in == "2h"
    renderer = speaking(Renderer("Europe/Brussels", "https://c.example"))  # as create_app
    text = renderer.analysis_text(d, "fr")
    assert "Analyse de la situation" in text
    assert "à Zuidwijk, gravité 4/5" in text
    assert "crime de haine (antimusulman) à Zuidwijk" in text  # codes in the reader's words
    assert "Tension : modérée" in text
    assert "en hausse" in text
    assert "police : Protéger la victime et sécuriser le quartier, dans les 2h — URGENT" in text
    assert "source la police (fiabilité 1.0)" in text
    assert "situation antérieure (rumeur, gravité 2, 1 signalement(s)" in text
    assert "sit-" not in text
    assert "hate_crime" not in text
    assert "Fatima" not in text  # the summary that travels is scrubbed
