"""Playbook schema, YAML positions, loader references, matcher, JSON Schema currency."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from concord.directory import load_directory
from concord.playbooks.loader import load_playbooks
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook, format_duration, json_schema, parse_duration
from concord.validate import check_playbooks
from concord.yamlpos import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = load_directory(ROOT / "directory.yml")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_durations_round_trip() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration(" 1w ") == timedelta(weeks=1)
    assert format_duration(timedelta(hours=48)) == "2d"
    assert format_duration(timedelta(minutes=90)) == "90m"
    with pytest.raises(ValueError):
        parse_duration("2 hours")


def test_dependency_cycle_and_unknown_dependency_are_refused() -> None:
    base = {"id": "p", "title": "P"}
    task = {"agency": "police", "title": "T", "action": "a"}
    with pytest.raises(ValidationError, match="dependency cycle: a -> b -> a"):
        Playbook.model_validate(
            {
                **base,
                "tasks": [
                    {**task, "id": "a", "depends_on": ["b"]},
                    {**task, "id": "b", "depends_on": ["a"]},
                ],
            }
        )
    with pytest.raises(ValidationError, match=r"depends_on\.0: unknown task 'zz'"):
        Playbook.model_validate({**base, "tasks": [{**task, "id": "a", "depends_on": ["zz"]}]})
    with pytest.raises(ValidationError, match="task id 'a' is used twice"):
        Playbook.model_validate({**base, "tasks": [{**task, "id": "a"}, {**task, "id": "a"}]})


def test_yaml_positions_point_at_the_node() -> None:
    doc = parse_yaml("id: x\ntasks:\n  - id: a\n    agency: nasa\n", "f.yml")
    assert not isinstance(doc, list) and hasattr(doc, "where")
    assert doc.where(("tasks", 0, "agency")) == (4, 13)
    assert doc.where(("tasks", 0, "missing")) == (3, 5)  # nearest existing parent


def test_loader_reports_file_line_col_for_every_kind_of_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        "unknown.yml",
        "id: u\ntitle: U\nwhen:\n  colour: red\ntasks:\n"
        "  - {id: a, agency: police, title: T, action: x}\n",
    )
    write(
        tmp_path,
        "refs.yml",
        "id: r\ntitle: R\nwhen:\n  areas: [mars]\ntasks:\n"
        "  - id: a\n    agency: nasa\n    title: T\n    action: '{{ victim.name }}'\n"
        "  - id: b\n    agency: police\n    title: T\n    action: '{% if %}'\n",
    )
    write(tmp_path, "types.yml", "id: t\ntitle: T\nversion: two\ntasks: []\n")
    write(tmp_path, "syntax.yml", "id: s\n  title: [\n")
    result = load_playbooks([tmp_path], DIRECTORY)
    lines = sorted(str(p).replace(str(tmp_path) + "/", "") for p in result.problems)
    assert "unknown.yml:4:3: when.colour: unknown field 'colour'" in lines
    assert "refs.yml:4:11: unknown area or group 'mars'" in lines
    assert "refs.yml:7:13: unknown agency 'nasa'" in lines
    assert any(
        x.startswith("refs.yml:9:13: unknown template variable(s) ['victim']") for x in lines
    )
    assert any(x.startswith("refs.yml:13:13: template syntax:") for x in lines)
    assert (
        "types.yml:3:10: version: Input should be a valid integer, unable to parse string as an integer"
        in lines
    )
    assert any(
        x.startswith("types.yml:4:8: tasks: List should have at least 1 item") for x in lines
    )
    assert any(x.startswith("syntax.yml:2:8: YAML syntax") for x in lines)
    assert result.playbooks == []


def test_duplicate_playbook_ids_across_files(tmp_path: Path) -> None:
    body = "id: same\ntitle: X\ntasks:\n  - {id: a, agency: police, title: T, action: x}\n"
    write(tmp_path, "a.yml", body)
    write(tmp_path, "b.yml", body)
    result = load_playbooks([tmp_path], DIRECTORY)
    assert [pb.id for pb in result.playbooks] == ["same"]
    assert str(result.problems[0]).endswith(f"playbook id 'same' also in {tmp_path}/a.yml")


def test_shipped_playbooks_are_valid_and_their_examples_pass() -> None:
    result = check_playbooks([ROOT / "playbooks"], DIRECTORY)
    assert result.ok, [str(p) for p in result.problems]
    assert len(result.playbooks) >= 3


def test_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "playbooks" / "schema.json").read_text())
    assert on_disk == json_schema(), "run `make schema` and commit playbooks/schema.json"


def test_shipped_playbooks_match_what_their_comments_say(situation_factory) -> None:  # type: ignore[no-untyped-def]
    result = load_playbooks([ROOT / "playbooks"], DIRECTORY)
    m = Matcher(result.playbooks, DIRECTORY)
    ids = lambda s: [pb.id for pb in m.match(s)]
    assert ids(situation_factory(category="hate_crime", severity=4)) == [
        "racist-assault",
        "victim-support-referral",  # matches, but racist-assault inhibits it (see test_areas)
    ]
    assert ids(situation_factory(category="hate_crime", severity=2)) == ["victim-support-referral"]
    assert ids(situation_factory(category="hate_crime", kind="tension", severity=5)) == []
    assert ids(situation_factory(category="vandalism", bias=["antisemitic"])) == [
        "place-of-worship-vandalism"
    ]
    assert ids(situation_factory(category="vandalism", bias=["anti_roma"])) == []
    # A rumour needs an incident in the area's recent history (the threshold's figure).
    assert ids(situation_factory(category="rumour", kind="tension")) == []
