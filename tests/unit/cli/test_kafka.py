"""Where `concord deadletter replay` puts a letter back (concord.cli.kafka.replayed_as)."""

from __future__ import annotations

from concord.cli.kafka import replayed_as
from concord.config.directory import Directory, load_directory
from concord.streams.audit import DeadLetter
from concord.streams.situations import SituationCommand
from tests.unit.factories import ROOT, make_situation


def letter(stage: str, topic: str, key: str | None) -> DeadLetter:
    return DeadLetter(
        reason="playbook failed",
        errors=[],
        original="v2.k.sealed",
        original_size=1,
        topic=topic,
        stage=stage,
        key=key,
    )


def unread() -> Directory:
    raise AssertionError("the directory is read only for an older plan letter")


def test_a_letter_goes_back_to_its_topic_with_its_key() -> None:
    for dead, raw in [
        (letter("intake", "concord.signals.in", "s1"), b'{"id": "s1"}'),
        (letter("plan", "concord.situation-commands", "centre"), b'{"action": "plan"}'),
        (letter("plan", "concord.situations", "sit-1"), b"not a snapshot"),
    ]:
        assert replayed_as(dead, raw, unread) == (dead.topic, dead.key, raw)


def test_an_older_plan_letter_goes_back_as_a_plan_command_keyed_by_zone() -> None:
    """Before 2026-12-07 the plan stage's letters held the situation's snapshot: put back
    on `concord.situations` it would only show the board an old state."""
    situation = make_situation(area="north")
    raw = situation.model_dump_json().encode()
    dead = letter("plan", "concord.situations", situation.id)
    topic, key, sent = replayed_as(dead, raw, lambda: load_directory(ROOT / "directory.yml"))
    assert (topic, key) == ("concord.situation-commands", "centre")  # north's zone
    command = SituationCommand.model_validate_json(sent)
    assert (command.action, command.situation_id, command.key) == (
        "plan",
        situation.id,
        "north|real",
    )
