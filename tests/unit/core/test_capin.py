"""CAP 1.2 alerts in (concord.core.capin): safe parsing, the OASIS schema, the mapping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.core import cap, capin
from concord.core.refusal import Refused
from concord.streams.situations import SituationState
from concord.streams.tasks import TaskState
from tests.unit.factories import DIRECTORY, make_situation, make_task

SENT = "2026-12-06T10:00:00+01:00"


def cap_xml(
    *infos: str, status: str = "Actual", kind: str = "Alert", ident: str = "ps-42", refs: str = ""
) -> bytes:
    references = f"<references>{refs}</references>" if refs else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{ident}</identifier><sender>police@region.example</sender><sent>{SENT}</sent>
  <status>{status}</status><msgType>{kind}</msgType><scope>Restricted</scope>
  <restriction>agencies</restriction>{references}{"".join(infos)}
</alert>""".encode()


def info(
    *areas: str, certainty: str = "Observed", severity: str = "Severe", extra: str = ""
) -> str:
    return f"""<info><language>fr-BE</language><category>Security</category>
  <event>Rixe</event><urgency>Immediate</urgency><severity>{severity}</severity>
  <certainty>{certainty}</certainty>{extra}
  <headline>Rixe entre deux groupes</headline><description>Insultes racistes.</description>
  {"".join(f"<area><areaDesc>{a}</areaDesc></area>" for a in areas)}</info>"""


def mapped(raw: bytes) -> capin.Mapped:
    got = capin.read(raw, DIRECTORY)
    assert not isinstance(got, Refused), got
    return got


def test_one_signal_per_area_of_each_info_with_a_stable_id() -> None:
    got = mapped(
        cap_xml(info("Centre-ville", "zuidwijk"), info("Quartier Nord", certainty="Likely"))
    )
    assert [s["id"] for s in got.signals] == ["cap:ps-42:1.1", "cap:ps-42:1.2", "cap:ps-42:2.1"]
    assert [s["area"] for s in got.signals] == ["centre", "south", "north"]  # names, any case
    first, _, third = got.signals
    assert (first["kind"], first["severity"], first["category"]) == ("incident", 4, "other")
    assert third["kind"] == "tension"  # not observed: a sign of tension
    assert first["source"] == {"type": "cap", "name": "police@region.example"}
    assert first["summary"] == "Rixe entre deux groupes\nInsultes racistes."
    assert (first["language"], first["occurred_at"], first["exercise"]) == ("fr", SENT, False)


# (status, a drill?) — None: refused
STATUSES: list[tuple[str, bool | None]] = [
    ("Actual", False),
    ("Exercise", True),
    ("Test", True),
    ("Draft", None),
    ("System", None),
]


@pytest.mark.parametrize(("status", "drill"), STATUSES)
def test_status(status: str, drill: bool | None) -> None:
    got = capin.read(cap_xml(info("Centre-ville"), status=status), DIRECTORY)
    if drill is None:
        assert isinstance(got, Refused)
        assert got.errors[0]["loc"] == "/cap:alert/cap:status"
    else:
        assert not isinstance(got, Refused)
        assert got.signals[0]["exercise"] is drill


def test_a_place_the_directory_does_not_know_goes_to_triage_never_dropped() -> None:
    got = mapped(cap_xml(info("Rue de la Loi 16", "Centre-ville"), info()))
    assert [s["id"] for s in got.signals] == ["cap:ps-42:1.2"]
    assert [(t.signal["id"], t.area_desc) for t in got.triage] == [
        ("cap:ps-42:1.1", "Rue de la Loi 16"),
        ("cap:ps-42:2.0", ""),  # an info with no area at all
    ]


def test_concords_own_alert_reads_back_exactly() -> None:
    s = make_situation(category="vandalism", bias=["antisemitic"], area="centre")
    s = s.model_copy(update={"areas": ["centre", "south"]})
    xml = cap.of_situation(s, "Alert", DIRECTORY, "concord@other.example", lambda c, lang: c)
    got = mapped(xml.encode())
    assert [(x["area"], x["category"], x["bias"]) for x in got.signals] == [
        ("centre", "vandalism", ["antisemitic"])  # the geocode wins over the area's names
    ]
    assert got.signals[0]["id"] == "cap:concord.sit-1:1.1"


# (what is wrong, where the answer says it is)
BAD: list[tuple[bytes, str]] = [
    (cap_xml(info("x")).replace(b"<category>Security", b"<category>Nope"), "cap:info/cap:category"),
    (cap_xml(info("x")).replace(b"<sent>" + SENT.encode(), b"<sent>yesterday"), "cap:sent"),
    (cap_xml(info("x")).replace(b"<scope>Restricted</scope>", b""), "/cap:alert"),
    (b"<alert>not CAP</alert>", "/alert"),  # no CAP namespace
    (b"<alert", "(body)"),
    (cap_xml(info("x")).replace(b'encoding="UTF-8"', b'encoding="TF-8"'), "(body)"),
]


@pytest.mark.parametrize(("raw", "where"), BAD)
def test_what_is_wrong_is_named_by_its_xpath(raw: bytes, where: str) -> None:
    got = capin.read(raw, DIRECTORY)
    assert isinstance(got, Refused)
    assert any(where in e["loc"] for e in got.errors), got.errors


# Entities, external references and DTDs are refused before anything is read.
UNSAFE = [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><a>&b;</a>',
    b'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://evil.example/cap.dtd"><alert/>',
]


@pytest.mark.parametrize("raw", UNSAFE)
def test_an_external_entity_a_bomb_or_a_dtd_is_refused(raw: bytes) -> None:
    got = capin.read(raw, DIRECTORY)
    assert isinstance(got, Refused)
    assert got.reason == "unsafe XML"


def test_an_onset_announced_for_later_happens_when_it_was_sent() -> None:
    later = "<onset>2026-12-07T18:00:00+01:00</onset>"
    earlier = "<onset>2026-12-06T08:00:00+01:00</onset>"
    assert mapped(cap_xml(info("Centre-ville", extra=later))).signals[0]["occurred_at"] == SENT
    got = mapped(cap_xml(info("Centre-ville", extra=earlier))).signals[0]["occurred_at"]
    assert got == "2026-12-06T08:00:00+01:00"


def test_a_long_identifier_makes_an_id_of_at_most_128_characters() -> None:
    got = mapped(cap_xml(info("Centre-ville"), ident="x" * 300))
    assert len(got.signals[0]["id"]) <= 128


def test_a_cancel_closes_what_its_alert_opened_and_cancels_its_open_tasks() -> None:
    opened = make_situation(area="centre")
    ref = opened.signals[0].model_copy(update={"id": "cap:ps-42:1.1"})
    opened = opened.model_copy(update={"id": "sit-a", "signals": [ref]})
    other = make_situation().model_copy(update={"id": "sit-b"})
    closed = opened.model_copy(update={"id": "sit-c", "state": SituationState.closed})
    tasks: dict[str, Any] = {
        "sit-a": [
            make_task(id="t1", situation_id="sit-a", state=TaskState.acknowledged),
            make_task(id="t2", situation_id="sit-a", state=TaskState.done),
        ]
    }
    raw = cap_xml(kind="Cancel", ident="ps-43", refs=f"police@region.example,ps-42,{SENT}")
    got = capin.handle(raw, DIRECTORY, [opened, other, closed], lambda s: tasks.get(s, []))
    assert not isinstance(got, Refused)
    assert [(c.situation_id, c.to, c.key) for c in got.close] == [
        ("sit-a", SituationState.closed, "centre|real")
    ]
    assert [(e.task_id, e.action) for e in got.cancel] == [("t1", "cancel")]
    assert got.signals == []


def test_handle_checks_each_signal_as_intake_does() -> None:
    got = capin.handle(cap_xml(info("Centre-ville")), DIRECTORY, [], lambda s: [])
    assert not isinstance(got, Refused)
    assert [s.id for s in got.signals] == ["cap:ps-42:1.1"]
    assert got.signals[0].source.type == "cap"


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_reading_any_mutation_of_an_alert_never_raises(data: st.DataObject) -> None:
    raw = cap_xml(info("Centre-ville", extra="<onset>2026-12-06T08:00:00+01:00</onset>"))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        cut = data.draw(st.integers(0, 30))
        raw = raw[:at] + data.draw(st.binary(max_size=12)) + raw[at + cut :]
    got = capin.handle(raw, DIRECTORY, [], lambda s: [])
    assert isinstance(got, (Refused, capin.Effects))
