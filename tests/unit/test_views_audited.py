"""Views of personal data are audited durably: every page or answer that shows a
report's text, a person, a file, a referral or the triage queue records it with `audit_view` (acked
by the broker before anything is shown), never with the buffered `audit`."""

from __future__ import annotations

import ast
from pathlib import Path

import concord.web

VIEWS = {"reports.read", "persons.viewed", "evidence.viewed", "referral.viewed", "triage.read"}


def audit_calls() -> list[tuple[str, str, str]]:
    """(file, method, action) for each `….audit(…)` / `….audit_view(…)` in the web."""
    found = []
    for path in sorted(Path(concord.web.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in {"audit", "audit_view"}:
                continue
            actions = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            found += [(path.name, node.func.attr, a) for a in actions if "." in a]
    return found


def test_every_view_of_personal_data_waits_for_its_audit_entry() -> None:
    calls = audit_calls()
    buffered = [(f, a) for f, method, a in calls if method == "audit" and a in VIEWS]
    assert buffered == []
    durable = {a for _, method, a in calls if method == "audit_view"}
    assert durable == VIEWS
