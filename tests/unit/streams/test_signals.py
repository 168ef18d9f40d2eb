"""What `concord.signals` carries (concord.streams.signals): the sealed signal, and the
records of earlier versions."""

from __future__ import annotations

from concord.streams.signals import Signal
from concord.streams.situations import Situation
from tests.unit.factories import make_situation


def test_records_written_before_free_text_was_sealed_still_read() -> None:
    """An archive or a topic from before 2026-12-06: a signal with `source`, `summary`
    and `persons_sealed`, a situation whose signals kept their summary in clear. They
    read; the clear text is dropped, never shown nor written again."""
    old = {
        "id": "s-old",
        "kind": "incident",
        "category": "hate_crime",
        "bias": [],
        "severity": 3,
        "occurred_at": "2026-11-01T12:00:00Z",
        "received_at": "2026-11-01T12:00:01Z",
        "area": "north",
        "source": {"type": "ngo", "name": "N"},
        "summary": "[victim] was hit by Ignatius",
        "persons_sealed": "v2.k.x",
        "language": "en",
        "exercise": False,
        "tags": [],
    }
    signal = Signal.model_validate(old)
    assert (signal.source_type, signal.sealed, signal.summary_sealed) == ("ngo", "v2.k.x", "")
    assert "Ignatius" not in signal.model_dump_json()
    snapshot = make_situation().model_dump(mode="json")
    snapshot["signals"][0] |= {"summary": "[victim] was hit by Ignatius"}
    del snapshot["signals"][0]["summary_sealed"]
    situation = Situation.model_validate(snapshot)
    assert "Ignatius" not in situation.model_dump_json()
