"""Properties of data protection, over random reports, directories and recipients.

Whatever the persons of a report are called and however the report spells them out:

- what leaves Concord for a carrier (task messages and the panel's notices: Slack
  blocks and text, email subject, text and HTML), what travels on the topics (the signal, the situation, the data key), the CSV
  export and every log line hold no name and no contact;
- what a viewer is shown (the persons API's JSON, the task page) holds nothing above the
  sharing level of the viewer's agency: `none` and `roles` no name or contact, `consented`
  those of the people who agreed only, `full` everyone's.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from concord.config.directory import Directory, Sharing
from concord.core import indicators
from concord.core.briefing import brief
from concord.core.disclosure import disclose, sharing_of
from concord.core.intake import seal
from concord.dryrun.flow import Simulator
from concord.notifiers.render import Renderer
from concord.privacy.keys import Sealer
from concord.streams.signals import Person, SignalIn
from concord.web.persons import as_json
from concord.web.site import Pages
from tests.unit.factories import (
    DIRECTORY,
    carried,
    composer,
    html,
    make_task,
    review_of,
    shipped_playbooks,
)

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = shipped_playbooks()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RENDER = Renderer("Europe/Brussels", "https://c.example/")
COMPOSE = composer(RENDER)
SEALER = Sealer(SecretStr(Fernet.generate_key().decode()), SecretStr("c" * 32))
PAGES = Pages("Europe/Brussels", DIRECTORY)
LIAISONS = [(a.id, liaison.id) for a in DIRECTORY.agencies for liaison in a.liaisons]
BODY = DIRECTORY.bodies[0]

word = st.from_regex(r"Zq[a-z]{4,8}", fullmatch=True)


@st.composite
def people(draw: Any) -> dict[str, Any]:
    first, last = draw(word), draw(word)
    if draw(st.booleans()):
        contact = (
            f"{first.lower()}.{last.lower()}@{draw(st.sampled_from(['example.org', 'mail.be']))}"
        )
    else:
        contact = "+32 4" + "".join(str(draw(st.integers(0, 9))) for _ in range(8))
    return {
        "role": draw(st.sampled_from(["victim", "witness", "reporter"])),
        "name": f"{first} {last}",
        "contact": contact,
        "consent_to_share": draw(st.booleans()),
    }


def respell(contact: str, how: int) -> str:
    """A contact as a reporter might write it in the summary."""
    if "@" in contact:
        return contact.upper() if how % 2 else contact
    digits = re.sub(r"\D", "", contact)
    return [
        "+" + digits,
        "0" + digits[2:],
        " ".join([digits[2:5], digits[5:7], digits[7:]]),
        contact,
    ][how % 4]


@st.composite
def reports(draw: Any) -> dict[str, Any]:
    persons = draw(st.lists(people(), min_size=1, max_size=3, unique_by=lambda p: p["name"]))
    bits = []
    for p in persons:
        surname = p["name"].split()[1]
        how = draw(st.integers(0, 7))
        bits.append(
            draw(
                st.sampled_from(
                    [
                        f"{p['name']} ({respell(p['contact'], how)}) was insulted.",
                        f"{surname} was pushed; call {respell(p['contact'], how)}.",
                        f"{p['name'].upper()} saw it <b>&</b> <!channel>.",
                    ]
                )
            )
        )
    return {
        "id": f"r-{draw(st.integers(0, 10**6))}",
        "kind": "incident",
        "category": draw(
            st.sampled_from(["hate_crime", "harassment", "vandalism", "intergroup_conflict"])
        ),
        "bias": draw(
            st.lists(st.sampled_from(["anti_muslim", "antisemitic", "anti_black"]), max_size=2)
        ),
        "severity": draw(st.integers(1, 5)),
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "area": draw(st.sampled_from([a.code for a in DIRECTORY.areas])),
        "source": {"type": "ngo", "name": "N"},
        "summary": " ".join(bits),
        "persons": persons,
        # Where it was seen online: the link names the person's profile.
        "online": {"url": f"https://social.example/u/{persons[0]['name'].split()[1]}"},
    }


def marks(person: dict[str, Any]) -> list[str]:
    """What would identify a person: each name part, the contact, a number's digits."""
    found = [*person["name"].split(), person["contact"].lower()]
    digits = re.sub(r"\D", "", person["contact"])
    return found + ([digits[2:]] if len(digits) > 6 else [])


def leaked(text: str, persons: list[dict[str, Any]]) -> list[str]:
    flat = text.lower()
    numbers = re.sub(r"[\s.\-/()+]", "", flat)
    return [
        m for p in persons for m in marks(p) if m.lower() in flat or (m.isdigit() and m in numbers)
    ]


def directory_with(levels: dict[str, Sharing]) -> Directory:
    data = DIRECTORY.model_dump(mode="json")
    for agency in data["agencies"]:
        agency["sharing"] = levels[agency["id"]].value
    return Directory.model_validate(data)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(reports(), min_size=1, max_size=3, unique_by=lambda r: r["id"]))
def test_no_name_or_contact_reaches_a_carrier_a_topic_the_csv_or_a_log(
    batch: list[dict[str, Any]],
) -> None:
    lines = Lines()
    root = logging.getLogger()
    root.addHandler(lines)
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        sim = Simulator(PLAYBOOKS, DIRECTORY, timedelta(hours=24))
        out: list[str] = []
        situations, tasks = {}, []
        for data in batch:
            signal_in = SignalIn.model_validate(data)
            signal, key = seal(signal_in, SEALER, NOW)
            out += [signal.model_dump_json(), key.model_dump_json() if key else ""]
            step = sim.feed(signal_in, NOW)
            assert step is not None
            situations[step.situation.id] = step.situation
            out.append(step.situation.model_dump_json())
            for planned in step.tasks.values():
                tasks += planned
        for task in tasks:
            out += [task.model_dump_json(), *carried(COMPOSE, task, NOW)]
        for data in batch:  # a referral to a competent body, as if asked for
            referral = COMPOSE.referral(
                BODY, SignalIn.model_validate(data), "asked", True, "L", NOW
            )
            out.append(referral.model_dump_json())
        for situation in situations.values():  # the panel's notices show the situation
            for outgoing in COMPOSE.review_notices(review_of(situation, NOW), "opened", 1, NOW):
                out.append(outgoing.model_dump_json())
        rows = indicators.rows(indicators.compute(situations.values(), tasks, [], []))
        out.append(json.dumps(rows))
    finally:
        root.removeHandler(lines)
        root.setLevel(old)
    persons = [p for r in batch for p in r["persons"]]
    for text in [*out, *lines.lines]:
        assert leaked(text, persons) == [], text[:2000]


@settings(max_examples=80, deadline=None)
@given(
    reports(),
    st.fixed_dictionaries({a.id: st.sampled_from(list(Sharing)) for a in DIRECTORY.agencies}),
    st.sampled_from(LIAISONS),
)
def test_a_viewer_sees_nothing_above_their_agencys_sharing_level(
    report: dict[str, Any], levels: dict[str, Sharing], viewer: tuple[str, str]
) -> None:
    agency, person = viewer
    directory = directory_with(levels)
    level = sharing_of(directory, person, "liaison", agency)
    assert level is levels[agency]
    persons = [Person.model_validate(p) for p in report["persons"]]
    view = disclose(report["id"], persons, report["summary"], level)
    api = json.dumps(as_json([view]))
    task = make_task(agency=agency, assignee=person, state="acknowledged")
    page = html(
        PAGES.render(
            "task.html",
            session=None,
            task=task,
            error=None,
            notice=None,
            allowed=[],
            text=task.text("en"),
            csrf="x",
            people=[view],
            sharing=level.value,
            withheld_because=None,
            refs=[],
            said={},
            b=brief(task, None, {}),
        )
    )
    for p in report["persons"]:
        may = level is Sharing.full or (level is Sharing.consented and p["consent_to_share"])
        for shown in (api, page or ""):
            found = leaked(shown, [p])
            if not may:
                assert found == [], (level, p, found)
        if may:
            assert p["name"] in api  # the level is honoured both ways: they do see them
