"""Situations as CAP 1.2 alerts (concord.core.cap), checked against the OASIS XSD."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
import xmlschema

from concord.core import cap
from tests.unit.factories import DIRECTORY, make_situation

XSD = xmlschema.XMLSchema(Path(cap.__file__).parent / "schemas" / "CAP-v1.2.xsd")
NS = {"cap": cap.NS}
ZONE = ZoneInfo("Europe/Brussels")


def alert(kind: cap.MsgType = "Alert", **situation: Any) -> ET.Element:
    s = make_situation()
    s = s.model_validate({**s.model_dump(), **situation})
    xml = cap.of_situation(s, kind, DIRECTORY, "concord@city.example", lambda c, lang: c)
    XSD.validate(xml)  # raises with the XPath of what is wrong
    return ET.fromstring(xml)


def text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return found.text or ""


@pytest.mark.parametrize("kind", ["Alert", "Update", "Cancel"])
def test_every_kind_of_alert_is_valid_cap_1_2(kind: cap.MsgType) -> None:
    root = alert(kind)
    assert text(root, "cap:msgType") == kind
    assert text(root, "cap:scope") == "Restricted"
    assert text(root, "cap:restriction")
    if kind == "Alert":
        assert root.find("cap:references", NS) is None
    else:  # an update or a cancel points at the alert it changes
        sender, ident, sent = text(root, "cap:references").split(",")
        assert (sender, ident) == ("concord@city.example", "concord.sit-1")
        assert sent.endswith("+01:00")


def test_sent_has_an_offset_never_z() -> None:
    sent = text(alert(), "cap:sent")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", sent)
    assert sent == "2026-01-01T01:00:00+01:00"  # midnight UTC is 01:00 in Brussels


def test_a_drill_is_an_exercise() -> None:
    assert text(alert(exercise=True), "cap:status") == "Exercise"
    assert text(alert(), "cap:status") == "Actual"


@pytest.mark.parametrize(
    ("fields", "urgency", "severity", "certainty", "category"),
    [
        ({"severity": 5}, "Immediate", "Extreme", "Observed", "Security"),
        ({"severity": 4}, "Immediate", "Severe", "Observed", "Security"),
        ({"severity": 3}, "Expected", "Moderate", "Observed", "Security"),
        ({"severity": 2}, "Future", "Minor", "Observed", "Security"),
        ({"severity": 2, "tension": {"score": 8, "level": "high"}}, "Immediate", "Minor",
         "Observed", "Security"),
        ({"severity": 2, "kinds": ["tension"], "categories": ["rumour"]}, "Future", "Minor",
         "Possible", "Safety"),
        ({"state": "closed"}, "Past", "Moderate", "Observed", "Security"),
        ({"categories": ["hate_speech"]}, "Expected", "Moderate", "Observed", "Safety"),
    ],
)  # fmt: skip
def test_the_mapping(
    fields: dict[str, Any], urgency: str, severity: str, certainty: str, category: str
) -> None:
    info = alert(**fields).find("cap:info", NS)
    assert info is not None
    assert text(info, "cap:urgency") == urgency
    assert text(info, "cap:severity") == severity
    assert text(info, "cap:certainty") == certainty
    assert text(info, "cap:category") == category


def test_the_area_has_its_name_and_a_circle_where_the_directory_gives_one() -> None:
    area = alert(areas=["north", "centre"]).find("cap:info/cap:area", NS)
    assert area is not None
    assert text(area, "cap:areaDesc") == "Quartier Nord, Centre-ville"
    circles = [c.text for c in area.findall("cap:circle", NS)]
    known = [
        str(a.circle) for code in ("north", "centre") if (a := DIRECTORY.area(code)) and a.circle
    ]
    assert circles == known


def test_no_report_text_reaches_an_alert() -> None:
    s = make_situation()
    ref = s.signals[0].model_copy(update={"summary_sealed": "v2.secret-sealed-text"})
    xml = cap.of_situation(
        s.model_copy(update={"signals": [ref]}), "Alert", DIRECTORY, "c@x.example",
        lambda c, lang: c,
    )  # fmt: skip
    assert "secret-sealed-text" not in xml


def test_the_current_alert_of_a_situation() -> None:
    s = make_situation()
    assert cap.current(s) == "Alert"
    two = s.model_copy(update={"signals": [*s.signals, s.signals[0]]})
    assert cap.current(two) == "Update"
    later = s.updated_at + timedelta(hours=1)
    closed = s.model_validate({**s.model_dump(), "state": "closed", "updated_at": later})
    assert cap.current(closed) == "Cancel"
    assert datetime(2026, 1, 1, tzinfo=UTC) == s.opened_at
