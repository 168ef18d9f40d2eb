"""`concord playbooks validate` (concord.validate): every problem in one run."""

from __future__ import annotations

from pathlib import Path

from concord.dryrun.examples import check_playbooks
from concord.playbooks.loader import load_playbooks
from tests.unit.factories import DIRECTORY


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_one_run_reports_schema_reference_and_example_problems(tmp_path: Path) -> None:
    write(
        tmp_path / "a.yml",
        "id: a\ntitle: A\nwhen:\n  areas: [mars]\n  colour: red\n"
        "tasks:\n  - {id: t, agency: nasa, title: T, action: x, due: soon}\n",
    )
    write(
        tmp_path / "b.yml",
        "id: b\ntitle: B\nwhen: {severity: {gte: 4}}\nreview: {quorum: 5, time_limit: 1h}\n"
        "tasks:\n  - {id: t, agency: police, title: T, action: x, escalate_to: [nobody]}\n",
    )
    write(
        tmp_path / "c.yml",
        "id: c\ntitle: C\nwhen: {severity: {gte: 4}}\n"
        "tasks:\n  - {id: t, agency: schools, title: T, action: x}\n"
        "examples:\n  - name: too mild\n    signals: [{severity: 2, category: vandalism}]\n    expect: fires\n"
        "  - name: bad signal\n    signals: [{severity: 9, category: vandalism}]\n    expect: fires\n",
    )
    result = check_playbooks([tmp_path], DIRECTORY)
    lines = [str(p).replace(f"{tmp_path}/", "") for p in result.problems]
    # a.yml: a schema error and two reference errors, reported together.
    assert "a.yml:4:11: unknown area or group 'mars'" in lines
    assert "a.yml:5:3: when.colour: unknown field 'colour'" in lines
    assert "a.yml:7:21: unknown agency 'nasa'" in lines
    assert any(x.startswith("a.yml:7:53: tasks.0.due: Value error, a duration") for x in lines)
    assert "b.yml:4:18: quorum 5 is more than the 3 panel members" in lines
    assert any(x.startswith("b.yml:6:64: unknown escalation target 'nobody'") for x in lines)
    assert (
        "c.yml:9:13: example 'too mild': no_match (severity 2 is below 4), expected fires" in lines
    )
    assert any(x.startswith("c.yml:11:26: examples.1.signals.0.severity:") for x in lines)
    assert [p.id for p in result.playbooks] == ["c"]
    assert not result.ok


def test_missing_translation_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write(
        tmp_path / "p.yml",
        "id: p\ntitle: P\ntasks:\n  - {id: t, agency: police, title: T, action: {en: x, fr: y}}\n",
    )
    result = load_playbooks([tmp_path], DIRECTORY)
    assert result.ok
    assert [str(w).replace(f"{tmp_path}/", "") for w in result.warnings] == [
        "p.yml:4:47: warning: no nl text for police's liaisons; they get the English text"
    ]


def test_inhibition_references_and_cycles(tmp_path: Path) -> None:
    body = "title: X\ntasks:\n  - {{id: t, agency: police, title: T, action: x}}\n"
    write(tmp_path / "a.yml", "id: a\nsuppress: {inhibits: [b]}\n" + body.format())
    write(tmp_path / "b.yml", "id: b\nsuppress: {inhibits: [a, zz]}\n" + body.format())
    lines = [
        str(p).replace(f"{tmp_path}/", "") for p in load_playbooks([tmp_path], DIRECTORY).problems
    ]
    assert "b.yml:2:26: unknown playbook 'zz'" in lines
    assert "a.yml:2:22: inhibition cycle: a -> b -> a" in lines
