"""CAP 1.2 alerts from other systems, as signals. Pure: bytes in, a decision out.

An alert is parsed safely (defusedxml: no DTD, no entity, no external reference), then
checked against the OASIS CAP 1.2 schema shipped with Concord; what is wrong is named by
its XPath (`/cap:alert/cap:info[1]/cap:category`). The mapping (docs/inbound.md):

- one signal per `<area>` of each `<info>`; its id is `cap:<identifier>:<info>.<area>` (1-based),
  so an alert sent twice is taken once;
- `status` Exercise (or Test) is a drill; Actual is real; Draft and System are refused;
- `msgType` Alert and Update give signals (an Update's join what the earlier alert
  opened, as any report of the same area and kind does); Cancel closes the situations
  its `references` opened;
- the area: a `geocode` `concord-area` (Concord's own alerts carry one), else an
  `areaDesc` naming an area of the directory (its code or any of its names, in any
  case); an area that matches nothing goes to triage, never dropped;
- what happened: an `eventCode` `concord-category` / `concord-bias` when there is one,
  else `other` with no motivation; `certainty` Observed is an incident, anything else a
  tension; `severity` Extreme 5, Severe 4, Moderate 3, Minor and Unknown 2;
- when: `onset`, else `effective`, else the alert's `sent`; the text: `headline` and
  `description` (sealed at intake like any report's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import xmlschema
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from concord.config.directory import Directory
from concord.core.correlation import area_key
from concord.core.intake import validate_signal
from concord.core.refusal import Refused
from concord.core.tasks import refusal
from concord.streams.signals import Bias, Category, SignalIn
from concord.streams.situations import Situation, SituationCommand, SituationState
from concord.streams.tasks import Task, TaskEvent

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD = Path(__file__).parent / "schemas" / "CAP-v1.2.xsd"
SEVERITY = {"Extreme": 5, "Severe": 4, "Moderate": 3, "Minor": 2, "Unknown": 2}
DRILL = {"Exercise", "Test"}
TAKEN = {"Actual", *DRILL}
#: The names Concord's own alerts give its codes (`eventCode`, `geocode`).
AREA_CODE, CATEGORY_CODE, BIAS_CODE = "concord-area", "concord-category", "concord-bias"


@cache
def schema() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema, loaded once."""
    return xmlschema.XMLSchema(XSD)


@dataclass(frozen=True)
class Triage:
    """A signal whose area matches none of the directory's: a coordinator places it."""

    signal: dict[str, Any]
    area_desc: str


@dataclass(frozen=True)
class Mapped:
    """What an alert becomes: signals (as producer JSON, for intake's checks), signals
    waiting for an area, and the alerts (sender, identifier) a Cancel closes."""

    identifier: str
    signals: list[dict[str, Any]] = field(default_factory=list)
    triage: list[Triage] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)


def xpath(path: str | None) -> str:
    """A schema error's path, as `/cap:alert/cap:info/cap:category`."""
    return (path or "/cap:alert").replace(f"{{{NS}}}", "cap:")


def parse(raw: bytes) -> Element | Refused:
    """The alert's root, parsed safely and valid against the schema; or why not."""
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        why = f"refused: {type(exc).__name__} (no DTD, entity or external reference)"
        return Refused("unsafe XML", errors=[{"loc": "(body)", "msg": why}])
    except (SafeET.ParseError, LookupError, ValueError) as exc:  # an unknown encoding too
        return Refused("not XML", errors=[{"loc": "(body)", "msg": str(exc) or "unreadable"}])
    errors = [{"loc": xpath(e.path), "msg": e.reason or str(e)} for e in schema().iter_errors(root)]
    if errors:
        return Refused("not a valid CAP 1.2 alert", errors=errors[:20])
    return root


def _text(parent: Element, name: str) -> str:
    found = parent.find(f"{{{NS}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _values(parent: Element, tag: str, name: str) -> list[str]:
    out = []
    for pair in parent.findall(f"{{{NS}}}{tag}"):
        if _text(pair, "valueName") == name:
            out.append(_text(pair, "value"))
    return out


def area_of(area: Element, directory: Directory) -> str | None:
    """The directory's area an `<area>` names: its `concord-area` geocode, else its
    `areaDesc` as a code or any name of an area (any case)."""
    for code in _values(area, "geocode", AREA_CODE):
        if directory.area(code) is not None:
            return code
    return area_named(_text(area, "areaDesc"), directory)


def area_named(text: str, directory: Directory) -> str | None:
    """The area whose code or any of whose names `text` is (any case): how an outside
    system or a partner's mail names a place (CAP's `areaDesc`, a mail's `Area:` line)."""
    wanted = text.strip().casefold()
    for a in directory.areas:
        if wanted in {a.code.casefold(), *(n.casefold() for n in (a.name, *a.names.values()))}:
            return a.code
    return None


def signal_id(identifier: str, info: int, area: int) -> str:
    """The signal's id: the alert's identifier with the info and area indexes (a long
    identifier is shortened by a digest: ids are at most 128 characters)."""
    ident = identifier if len(identifier) <= 96 else hashlib.sha256(identifier.encode()).hexdigest()
    return f"cap:{ident}:{info}.{area}"


def _what(info: Element) -> tuple[str, list[str]]:
    categories = [c for c in _values(info, "eventCode", CATEGORY_CODE) if c in Category.__members__]
    bias = [b for b in _values(info, "eventCode", BIAS_CODE) if b in Bias.__members__]
    return (categories[0] if categories else "other"), list(dict.fromkeys(bias))


def when(root: Element, info: Element) -> str:
    """When it happened: `onset`, else `effective`, else `sent`; never later than `sent`
    (an alert about what is announced for tomorrow is a sign of tension today)."""
    sent = _text(root, "sent")
    given = _text(info, "onset") or _text(info, "effective") or sent
    try:
        return sent if datetime.fromisoformat(given) > datetime.fromisoformat(sent) else given
    except ValueError:
        return sent


def _signal(root: Element, info: Element, ident: str, area_code: str) -> dict[str, Any]:
    category, bias = _what(info)
    headline, description = _text(info, "headline"), _text(info, "description")
    summary = "\n".join(t for t in (headline, description) if t) or _text(info, "event")
    return {
        "id": ident,
        "kind": "incident" if _text(info, "certainty") == "Observed" else "tension",
        "category": category,
        "bias": bias,
        "severity": SEVERITY.get(_text(info, "severity"), 2),
        "occurred_at": when(root, info),
        "area": area_code,
        "source": {"type": "cap", "name": _text(root, "sender")[:200]},
        "summary": summary[:4000],
        "language": (_text(info, "language") or "en")[:2].lower(),
        "exercise": _text(root, "status") in DRILL,
        "tags": ["cap"],
    }


def mapping(root: Element, directory: Directory) -> Mapped | Refused:
    """What a valid alert becomes (see the module's table)."""
    status, kind = _text(root, "status"), _text(root, "msgType")
    identifier = _text(root, "identifier")
    if status not in TAKEN:
        return Refused(
            f"status {status} is not taken",
            errors=[{"loc": "/cap:alert/cap:status", "msg": "Actual, Exercise or Test"}],
        )
    if kind == "Cancel":
        refs = [r.split(",")[1] for r in _text(root, "references").split() if r.count(",") == 2]
        return Mapped(identifier, cancels=refs)
    if kind not in ("Alert", "Update"):
        return Refused(
            f"msgType {kind} is not taken",
            errors=[{"loc": "/cap:alert/cap:msgType", "msg": "Alert, Update or Cancel"}],
        )
    out = Mapped(identifier)
    for i, info in enumerate(root.findall(f"{{{NS}}}info"), start=1):
        areas = info.findall(f"{{{NS}}}area")
        if not areas:  # an alert about no place in particular: a coordinator places it
            out.triage.append(Triage(_signal(root, info, signal_id(identifier, i, 0), ""), ""))
        for j, area in enumerate(areas, start=1):
            code = area_of(area, directory)
            data = _signal(root, info, signal_id(identifier, i, j), code or "")
            if code is None:
                out.triage.append(Triage(data, _text(area, "areaDesc")[:200]))
            else:
                out.signals.append(data)
    return out


def read(raw: bytes, directory: Directory) -> Mapped | Refused:
    """Parse, check and map an alert; never raises."""
    root = parse(raw)
    return root if isinstance(root, Refused) else mapping(root, directory)


@dataclass(frozen=True)
class Effects:
    """What one alert makes happen: signals to admit, signals to triage, situations to
    close (with the tasks still open in them), and a line for the audit."""

    identifier: str
    signals: list[SignalIn] = field(default_factory=list)
    triage: list[Triage] = field(default_factory=list)
    close: list[SituationCommand] = field(default_factory=list)
    cancel: list[TaskEvent] = field(default_factory=list)


def of_alert(identifier: str, signal_ids: Iterable[str]) -> bool:
    """Whether any of these signal ids came from the alert `identifier`."""
    prefix = signal_id(identifier, 0, 0).rsplit(":", 1)[0] + ":"
    return any(s.startswith(prefix) for s in signal_ids)


def handle(
    raw: bytes,
    directory: Directory,
    situations: Iterable[Situation],
    tasks_of: Callable[[str], Iterable[Task]],
) -> Effects | Refused:
    """One alert's step: read, check and map it; a Cancel closes what its references
    opened (still open) and cancels their open tasks. Never raises."""
    mapped = read(raw, directory)
    if isinstance(mapped, Refused):
        return mapped
    out = Effects(mapped.identifier, triage=mapped.triage)
    for data in mapped.signals:
        checked = validate_signal(data, directory)
        if isinstance(checked, Refused):  # a text too long, a time out of range
            where = f"{data['id']} (info.area {data['id'].rsplit(':', 1)[1]})"
            errors = [{"loc": f"{where}: {e['loc']}", "msg": e["msg"]} for e in checked.errors]
            return Refused("an alert's info does not make a valid signal", errors=errors)
        out.signals.append(checked)
    actor = f"cap:{mapped.identifier}"[:128]
    for s in situations:
        cancelled = any(of_alert(ref, (r.id for r in s.signals)) for ref in mapped.cancels)
        if not cancelled or s.state == SituationState.closed or s.merged_into:
            continue
        out.close.append(
            SituationCommand(
                situation_id=s.id,
                key=area_key(s.area, s.exercise),
                action="state",
                to=SituationState.closed,
                actor=actor,
                reason=f"cancelled by CAP alert {mapped.identifier}",
            )
        )
        reason = f"situation {s.id} closed: CAP alert {mapped.identifier} cancelled it"
        out.cancel.extend(
            TaskEvent(task_id=t.id, action="cancel", actor=actor, via="api", reason=reason)
            for t in tasks_of(s.id)
            if refusal(t, "cancel") is None
        )
    return out
