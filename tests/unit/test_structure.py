"""The package's shape: no import circles, no module over 400 lines, no function over 60.

(The layers are import-linter's contracts in `.importlinter`, checked by `make test`.)
"""

from __future__ import annotations

import ast

import grimp

from tests.unit.factories import ROOT

PACKAGE = ROOT / "concord"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    g = grimp.build_graph("concord", exclude_type_checking_imports=False)
    graph = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    assert cycles(graph) == []


def test_no_module_or_function_is_over_the_limits() -> None:
    over: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(ROOT)
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            over.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    over.append(f"{name}:{node.lineno}: {node.name}() {length} lines")
    assert over == []


#: Unit tests about more than one module (the flow as a whole, or the shipped files).
ACROSS_MODULES = {
    "core/test_flow_properties.py",
    "core/test_what_incidents_establish.py",
    "playbooks/test_shipped.py",
    "privacy/test_erasure_property.py",
    "streams/test_signal_in.py",
    "test_deploy.py",
    "test_never_leaks.py",
    "test_structure.py",
    "test_views_audited.py",
}


def test_unit_tests_mirror_the_package() -> None:
    # tests/unit/core/test_tally.py tests concord/core/tally.py: a newcomer finds the
    # tests of a module by its name, and a module's tests in one file.
    strays: list[str] = []
    for path in sorted((ROOT / "tests" / "unit").rglob("test_*.py")):
        name = path.relative_to(ROOT / "tests" / "unit").as_posix()
        module = PACKAGE / name.replace("test_", "", 1)
        if name not in ACROSS_MODULES and not (module.exists() or module.with_suffix("").is_dir()):
            strays.append(f"tests/unit/{name}: no concord/{name.replace('test_', '', 1)}")
    assert strays == []


def test_the_top_level_holds_packages_only() -> None:
    """`concord/` reads as the flow and its edges: every module lives in a named package."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == []


def _stage_labels_in_code() -> set[str]:
    """Every literal stage label the code passes to the stage loop, dead letters or the
    per-stage metrics."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            owner = fn.value if isinstance(fn, ast.Attribute) else None
            if name in {"consume", "consume_raw"}:
                arg = node.args[1] if len(node.args) > 1 else None
            elif name in {"deadletter", "failed"}:
                arg = node.args[0] if node.args else None
            elif name == "labels" and isinstance(owner, ast.Attribute):
                arg = node.args[0] if owner.attr.startswith("stage_") and node.args else None
            else:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def test_stage_labels_are_the_agent_modules_and_in_the_glossary() -> None:
    from concord.streams.audit import STAGES

    used = _stage_labels_in_code()
    assert used, "the scan found no stage label: it no longer reads the code"
    assert used <= set(STAGES), used - set(STAGES)
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    for stage in STAGES:
        assert (PACKAGE / "agents" / f"{stage}.py").exists(), stage
        assert f"| **{stage}** (stage) |" in architecture, f"{stage} is not in the glossary"
