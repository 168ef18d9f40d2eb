"""concord.web.contract: the OpenAPI document names exactly the API the views bind."""

from __future__ import annotations

import ast
import re

import pytest

from concord.web.contract import OPERATIONS, document
from tests.unit.factories import ROOT

WEB = ROOT / "concord" / "web"


def bound() -> set[tuple[str, str]]:
    """(method, path) of every `route(app, path, get=..., post=...)` under concord/web,
    with aiohttp's `{action:ack|done}` written as OpenAPI's `{action}`."""
    found: set[tuple[str, str]] = set()
    for path in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "route"):
                continue
            template = node.args[1]
            assert isinstance(template, ast.Constant), f"{path.name}: a route path is not literal"
            openapi = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", str(template.value))
            found |= {(k.arg or "", openapi) for k in node.keywords if k.arg in ("get", "post")}
    return found


def test_every_api_route_is_in_the_contract_and_nothing_else() -> None:
    machine = {
        (m, p)
        for m, p in bound()
        if p.startswith("/api/") or p in ("/healthz", "/metrics", "/openapi.json")
    }
    assert machine == {(op.method, op.path) for op in OPERATIONS}


def test_path_choices_are_the_routes_choices() -> None:
    choices: dict[str, set[str]] = {}
    for path in WEB.glob("*.py"):
        for found in re.finditer(r'"(/api/[^"]*\{\w+:[a-z|]+\}[^"]*)"', path.read_text()):
            route = found.group(1)
            for name, values in re.findall(r"\{(\w+):([a-z|]+)\}", route):
                openapi = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route)
                choices[f"{openapi} {name}"] = set(values.split("|"))
    assert choices, "no route with choices found: the scan no longer reads the routes"
    for op in OPERATIONS:
        for p in op.params:
            if p.values:
                assert set(p.values) == choices[f"{op.path} {p.name}"], (op.path, p.name)


def test_the_document_is_openapi_3_1_with_every_model_resolved() -> None:
    doc = document(500, ["north", "south"])
    assert doc["openapi"] == "3.1.0"
    text = repr(doc)
    refs = set(re.findall(r"#/components/schemas/(\w[\w-]*)", text))
    assert refs, refs - set(doc["components"]["schemas"])
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])
    signals = doc["paths"]["/api/signals"]["post"]
    batch = next(
        o
        for o in signals["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
        if o.get("type") == "array"
    )
    assert batch["maxItems"] == 500
    assert doc["components"]["schemas"]["SignalIn"]["properties"]["area"]["enum"] == [
        "north",
        "south",
    ]
    # Every operation that takes a token says so; the public report form does not.
    assert signals["security"] == [{"bearer": []}]
    assert doc["paths"]["/api/reports"]["post"]["security"] == []


def test_a_model_read_two_ways_under_one_name_is_refused() -> None:
    from pydantic import create_model

    from concord.web import contract

    defs: dict[str, object] = {}
    contract._adapter_schema(list[create_model("Twice", at=(str, ...))], defs, "serialization")  # type: ignore[misc]
    with pytest.raises(ValueError, match="Twice: two different schemas"):
        contract._adapter_schema(list[create_model("Twice", at=(int, ...))], defs, "serialization")  # type: ignore[misc]
