"""The playbook schema (concord.playbooks.schema): tasks, durations and the checked-in JSON Schema."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from concord.playbooks.schema import format_duration, json_schema, parse_duration
from tests.unit.factories import ROOT, TASK, playbook


def test_task_needs_agency_or_role_and_english_text() -> None:
    with pytest.raises(ValidationError, match="exactly one of `agency` and `role`"):
        playbook(tasks=[{"id": "t", "title": "T", "action": "a"}])
    with pytest.raises(ValidationError, match="need an 'en' variant"):
        playbook(tasks=[{**TASK, "action": {"fr": "texte"}}])
    with pytest.raises(ValidationError, match="`remind_before` must be shorter"):
        playbook(tasks=[{**TASK, "due": "1h", "remind_before": "2h"}])


def test_durations_round_trip() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration(" 1w ") == timedelta(weeks=1)
    assert format_duration(timedelta(hours=48)) == "2d"
    assert format_duration(timedelta(minutes=90)) == "90m"
    with pytest.raises(ValueError, match="a duration like"):
        parse_duration("2 hours")


def test_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "playbooks" / "schema.json").read_text())
    assert on_disk == json_schema(), "run `make schema` and commit playbooks/schema.json"
