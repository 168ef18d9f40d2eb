"""Erasure is complete: random reports whose free text names people (in random places),
gives an e-mail address, a phone number in three spellings and a street address go
through the whole flow (intake, correlation, planning, task messages, the panel's
notices, the read model); then the signal's data key is erased.

Before: the text was kept (the reader of a page opens it), yet nothing of it is in clear
in any record, message or page. After: no copy can be opened any more, and pages and
the API say "erased".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.core.redaction import name_like
from concord.dryrun.flow import Simulator
from concord.notifiers.render import Renderer
from concord.privacy.keys import Erased
from concord.streams.signals import SignalIn
from concord.streams.situations import Situation
from concord.web.readmodel import ReadModel
from tests.unit.factories import DIRECTORY, carried, composer, review_of, shipped_playbooks

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = shipped_playbooks()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RENDER = Renderer("Europe/Brussels", "https://c.example/")
COMPOSE = composer(RENDER)

name = (
    st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=2, max_size=4)
    .flatmap(lambda c: st.just(c[0].upper() + "a" + c[1:] + "ovix"))
    .filter(lambda n: name_like(n, frozenset()))
)
filler = st.lists(
    st.sampled_from(["was", "hit", "near", "the", "tram", "by", "two", "men", "le", "et"]),
    max_size=8,
)


@st.composite
def reports(draw: Any) -> tuple[dict[str, Any], list[str]]:
    first, last, street = draw(name), draw(name), draw(name)
    # 1-9: a run of zeros would be found in any timestamp's digits
    digits = "".join(str(draw(st.integers(1, 9))) for _ in range(8))
    spellings = [
        f"+32 4{digits[0:2]} {digits[2:4]} {digits[4:6]} {digits[6:8]}",
        f"04{digits[0:2]}/{digits[2:4]}.{digits[4:6]}.{digits[6:8]}",
        f"00324{digits}",
    ]
    email = f"{first.lower()}.{last.lower()}@example.org"
    parts = [
        f"{first} {last}",
        f"call {spellings[0]}, {spellings[1]} or {spellings[2]}",
        f"write {email}",
        f"at Rue {street} 12",
    ]
    order = draw(st.permutations(parts))
    text = " ".join(" ".join([*draw(filler), p]) + "." for p in order)
    report = {
        "id": f"report-{draw(st.integers(0, 10**6))}",
        "kind": "incident",
        "category": draw(st.sampled_from(["hate_crime", "vandalism", "intergroup_conflict"])),
        "bias": draw(st.lists(st.sampled_from(["anti_muslim", "antisemitic"]), max_size=1)),
        "severity": draw(st.integers(3, 5)),
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "area": draw(st.sampled_from([a.code for a in DIRECTORY.areas])),
        "source": {"type": "public", "name": f"{first} {last}'s association"},
        "summary": text,
    }
    return report, [first, last, street, email, digits]


def clear(text: str, marks: list[str]) -> list[str]:
    """The marks found in `text` in clear (a number's digits however they are spaced)."""
    digits = re.sub(r"\D", "", text)
    return [m for m in marks if m.lower() in text.lower() or (m.isdigit() and m in digits)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(reports(), min_size=1, max_size=3, unique_by=lambda r: r[0]["id"]))
def test_after_an_erasure_no_trace_of_what_a_report_said_can_be_read(
    batch: list[tuple[dict[str, Any], list[str]]],
) -> None:
    sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
    records: list[str] = []  # everything written to a topic or handed to a carrier
    view = ReadModel()
    situations: dict[str, Situation] = {}
    for report, _ in batch:
        step = sim.feed(SignalIn.model_validate(report), NOW)
        assert step is not None
        records.append(step.signal.model_dump_json())
        view.apply("concord.signals", step.signal.id, step.signal.model_dump_json().encode())
        situations[step.situation.id] = step.situation
        for planned in step.tasks.values():
            for task in planned:
                records += [task.model_dump_json(), *carried(COMPOSE, task, NOW)]
    for situation in situations.values():
        records.append(situation.model_dump_json())
        for outgoing in COMPOSE.review_notices(review_of(situation, NOW), "opened", 1, NOW):
            records.append(outgoing.model_dump_json())
    marks = [m for _, found in batch for m in found]
    for record in records:
        assert clear(record, marks) == [], record[:1500]

    refs = [r for s in situations.values() for r in s.signals]
    sealed = [r.summary_sealed for r in refs] + list(view.sealed.values())
    # The text was kept: a reader of the page opens it (scrubbed, or as written).
    opened = [sim.sealer.open(v or "", sim.keys).decode() for v in sealed]
    assert any("[name]" in t for t in opened)
    assert any(batch[0][1][0] in t for t in opened)  # the summary as written, sealed

    erased = {k: v for k, v in sim.keys.items() if not v.subject.startswith("report-")}
    for value in sealed:
        try:
            sim.sealer.open(value or "", erased)
        except Erased:
            continue
        raise AssertionError("a copy of an erased report's text could still be opened")
