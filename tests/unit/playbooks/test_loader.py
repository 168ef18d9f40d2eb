"""The playbook loader (concord.playbooks.loader): file:line:col for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from concord.playbooks.loader import load_playbooks
from concord.playbooks.schema import Playbook
from tests.unit.factories import DIRECTORY


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


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
