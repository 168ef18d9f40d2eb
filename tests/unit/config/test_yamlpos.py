"""YAML positions (concord.yamlpos)."""

from __future__ import annotations

from concord.config.yamlpos import parse_yaml


def test_yaml_positions_point_at_the_node() -> None:
    doc = parse_yaml("id: x\ntasks:\n  - id: a\n    agency: nasa\n", "f.yml")
    assert not isinstance(doc, list)
    assert hasattr(doc, "where")
    assert doc.where(("tasks", 0, "agency")) == (4, 13)
    assert doc.where(("tasks", 0, "missing")) == (3, 5)  # nearest existing parent
