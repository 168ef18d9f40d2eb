"""A situation as an OASIS CAP 1.2 alert, for emergency and warning systems.

The mapping (the table is in docs/channels.md, "CAP 1.2"):

- `identifier`: `concord.<situation id>` for the alert; `.<time>` appended for an update
  or a cancel, which reference the alert (`references`).
- `sent`: when the situation opened (the alert) or changed, with its +hh:mm offset.
- `status`: `Exercise` for a drill; `msgType`: Alert, Update, Cancel as it opens,
  changes, closes; `scope`: `Restricted`, with a `restriction`.
- `info`: `category` Security (crimes, vandalism, conflicts, demonstrations) or Safety;
  `event` the categories in words; `urgency`, `severity`, `certainty` as below.
- `area`: `areaDesc` its areas' names; a `circle` where the directory gives one.

Never a person, and never a report's text: only codes, counts and times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from concord.config.directory import Directory
from concord.streams.signals import Category, Kind
from concord.streams.situations import Situation, SituationState

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MsgType = Literal["Alert", "Update", "Cancel"]


def N_(message: str) -> str:
    """Mark a text for the catalogues (`scripts/extract-messages`)."""
    return message


RESTRICTION = N_("Inter-agency coordination of a city's response; not for public distribution.")
DESCRIPTION = N_("%(n)s signal(s) since %(at)s; tension %(level)s; state %(state)s.")
#: Categories that CAP files under `Security`; the others under `Safety`.
SECURITY = frozenset(
    {Category.hate_crime, Category.vandalism, Category.intergroup_conflict, Category.demonstration}
)
SEVERITY = {5: "Extreme", 4: "Severe", 3: "Moderate", 2: "Minor", 1: "Minor"}


@dataclass(frozen=True)
class Place:
    """An area as CAP describes it: its name, and a circle where the directory knows one
    (`lat,lon radius-km`)."""

    name: str
    circle: str | None = None


def msg_type(situation: Situation, first: bool) -> MsgType:
    """Alert for a situation's first message, Cancel once closed, Update otherwise."""
    if situation.state == SituationState.closed:
        return "Cancel"
    return "Alert" if first else "Update"


def urgency(situation: Situation) -> str:
    """How soon to act (see the module's table)."""
    if situation.state == SituationState.closed:
        return "Past"
    if situation.severity >= 4 or situation.tension.level in ("high", "critical"):
        return "Immediate"
    return "Expected" if situation.severity == 3 else "Future"


def stamp(at: datetime, zone: ZoneInfo) -> str:
    """A CAP time: seconds, and the offset as ±hh:mm (never `Z`)."""
    return at.astimezone(zone).replace(microsecond=0).isoformat()


def add(parent: ET.Element, name: str, text: str) -> ET.Element:
    """A CAP element with its text."""
    child = ET.SubElement(parent, f"{{{NS}}}{name}")
    child.text = text
    return child


def pairs(parent: ET.Element, tag: str, name: str, values: list[str]) -> None:
    """One `<tag><valueName>name</valueName><value>v</value></tag>` per value."""
    for value in values:
        pair = ET.SubElement(parent, f"{{{NS}}}{tag}")
        add(pair, "valueName", name)
        add(pair, "value", value)


def alert(
    situation: Situation,
    kind: MsgType,
    *,
    sender: str,
    zone: ZoneInfo,
    places: list[Place],
    words: Callable[[str], str],
    say: Callable[[str], str] = lambda message: message,
    language: str = "en",
) -> str:
    """The CAP 1.2 XML of a situation (`kind`: Alert, Update or Cancel), its texts in
    `language` (`words`: codes in words; `say`: Concord's own sentences)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    first = f"concord.{situation.id}"
    ident = first if kind == "Alert" else f"{first}.{int(situation.updated_at.timestamp())}"
    add(root, "identifier", ident)
    add(root, "sender", sender)
    add(root, "sent", stamp(situation.opened_at if kind == "Alert" else situation.updated_at, zone))
    add(root, "status", "Exercise" if situation.exercise else "Actual")
    add(root, "msgType", kind)
    add(root, "scope", "Restricted")
    add(root, "restriction", say(RESTRICTION))
    if kind != "Alert":
        add(root, "references", f"{sender},{first},{stamp(situation.opened_at, zone)}")
    info = ET.SubElement(root, f"{{{NS}}}info")
    add(info, "language", language)
    security = any(c in SECURITY for c in situation.categories)
    add(info, "category", "Security" if security else "Safety")
    event = ", ".join(words(str(c.value)) for c in situation.categories) or words("other")
    add(info, "event", event)
    add(info, "urgency", urgency(situation))
    add(info, "severity", SEVERITY.get(situation.severity, "Unknown"))
    observed = Kind.incident in situation.kinds
    add(info, "certainty", "Observed" if observed else "Possible")
    # Concord's codes too, so that another Concord reads the alert exactly (capin.py).
    pairs(info, "eventCode", "concord-category", [str(c) for c in situation.categories])
    pairs(info, "eventCode", "concord-bias", [str(b) for b in situation.bias])
    add(info, "senderName", "Concord")
    names = ", ".join(p.name for p in places)
    add(info, "headline", f"{event}: {names}"[:160])
    facts = {
        "n": len(situation.signals),
        "at": stamp(situation.opened_at, zone),
        "level": words(situation.tension.level),
        "state": words(situation.state.value),
    }
    add(info, "description", say(DESCRIPTION) % facts)
    area = ET.SubElement(info, f"{{{NS}}}area")
    add(area, "areaDesc", names or situation.area)
    for circle in (p.circle for p in places if p.circle):
        add(area, "circle", circle)
    pairs(area, "geocode", "concord-area", situation.areas or [situation.area])
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body.decode()


def of_situation(
    situation: Situation,
    kind: MsgType,
    directory: Directory,
    sender: str,
    words: Callable[[str, str], str],
    say: Callable[[str, str], str] = lambda message, language: message,
) -> str:
    """The alert of a situation of this city: its areas' names and circles from the
    directory, its words in the city's first language (`words`: codes; `say`: Concord's
    sentences, both from the catalogues)."""
    places = []
    for code in situation.areas or [situation.area]:
        area = directory.area(code)
        circle = str(area.circle) if area is not None and area.circle is not None else None
        places.append(Place(directory.area_name(code), circle))
    language = directory.city.languages[0]
    return alert(
        situation,
        kind,
        sender=sender,
        zone=ZoneInfo(directory.city.timezone),
        places=places,
        words=lambda code: words(code, language),
        say=lambda message: say(message, language),
        language=language,
    )


def current(situation: Situation) -> MsgType:
    """What a situation's alert is now, for who asks (`GET .../cap`): Cancel once closed,
    the Alert while nothing changed since it opened, else an Update."""
    first = len(situation.signals) <= 1 and situation.state == SituationState.open
    return msg_type(situation, first)
