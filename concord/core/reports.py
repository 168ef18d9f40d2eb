"""Reports from the public and from organisations: a receipt, the signal a report
becomes, and what its reporter may learn of it later.

A report becomes a signal (source type `public`, or `ngo` for an organisation) and goes
through intake like any other, so it reaches correlation, the playbooks and the board.
The public does not grade severity: hate crimes and conflicts between groups count 3,
everything else 2, and the coordinators see where it came from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Literal

from concord.streams.reports import ReportIn
from concord.streams.situations import Situation, SituationState

#: A receipt: 12 characters of an alphabet without look-alikes (about 60 bits).
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECEIPT_LENGTH = 12
PREFIX = "report-"
#: The longest `Idempotency-Key` taken (as the IETF draft's examples and Stripe's).
KEY_MOST = 255
#: What the public's severity is, per category (they do not grade it themselves).
SEVERITY = {"hate_crime": 3, "intergroup_conflict": 3}
#: Categories that are signs of tension rather than incidents.
TENSION = {"rumour"}
#: A report's reporter as a person of the signal.
PERSON_ROLE = {"victim": "victim", "witness": "witness"}

Status = Literal["received", "being_handled", "closed"]


def new_receipt() -> str:
    """A fresh receipt code (the reporter keeps it to ask how it goes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(RECEIPT_LENGTH))


def same_receipt(secret: bytes, *parts: bytes) -> str:
    """The receipt a report gets every time it is sent with the same `parts` (what
    identifies its sending, and what it says): a retry after a timeout or a 503 is the
    same report under the same receipt, so its signal is taken once by its id. Keyed
    under `secret`, so nobody can make another's receipt without knowing all its parts."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in parts:  # each part's length first: no two lists of parts run together
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    number = int.from_bytes(mac.digest(), "big")
    out = []
    for _ in range(RECEIPT_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        out.append(ALPHABET[digit])
    return "".join(out)


def idempotency_key(value: str) -> str:
    """The key an `Idempotency-Key` header gives: 1 to `KEY_MOST` visible ASCII
    characters, bare (`8e03978e-…`) or as a structured-field string (`"8e03978e-…"`);
    raises ValueError saying what is wrong."""
    if not 0 < len(value) <= KEY_MOST or not all("!" <= ch <= "~" for ch in value):
        raise ValueError(f"1 to {KEY_MOST} visible ASCII characters, without spaces")
    key = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
    if not key or '"' in key:
        raise ValueError('a key, bare or in double quotes (`"…"`), not empty')
    return key


def is_receipt(value: str) -> bool:
    """Whether `value` is shaped like a receipt code."""
    return len(value) == RECEIPT_LENGTH and all(ch in ALPHABET for ch in value)


def signal_id(receipt: str) -> str:
    """The id of the signal a report becomes."""
    return PREFIX + receipt


def to_signal(
    report: ReportIn, receipt: str, referred: bool = False, source_type: str | None = None
) -> dict[str, Any]:
    """The signal (as JSON, for intake's validation) a report becomes. `referred`: a body
    handles it in the city's place, so the city only counts it (`wants: register`)."""
    organisation = report.reporter_role == "organisation"
    person: dict[str, Any] = {"role": PERSON_ROLE.get(report.reporter_role, "reporter")}
    if report.consent_to_contact:
        person |= {"contact": report.contact, "consent_to_share": report.consent_to_share}
    summary = report.summary
    if report.place:
        summary += f"\n(place: {report.place})"
    return {
        "id": signal_id(receipt),
        "kind": "tension" if report.category in TENSION else "incident",
        "category": report.category.value,
        "bias": [b.value for b in report.bias],
        "severity": SEVERITY.get(report.category.value, 2),
        "occurred_at": report.occurred_at.isoformat(),
        "area": report.area,
        "source": {
            "type": source_type or ("ngo" if organisation else "public"),
            "name": report.organisation or ("Organisation" if organisation else "Report form"),
        },
        "summary": summary,
        "persons": [person],
        "language": report.language,
        "tags": ["public-report", f"reporter-{report.reporter_role.replace('_', '-')}"],
        "wants": "register" if referred else report.wants,
        "indicators": [i.value for i in report.indicators],
        "online": _online(report),
    }


def _online(report: ReportIn) -> dict[str, Any] | None:
    if not (report.url or report.platform or report.seen_at):
        return None
    seen = report.seen_at.isoformat() if report.seen_at else None
    return {"url": report.url, "platform": report.platform, "seen_at": seen}


def status_of(situation: Situation | None) -> Status:
    """What the reporter is told: received (not in a situation yet), being handled, or
    closed. Nothing else: no agency, no other report, no person."""
    if situation is None:
        return "received"
    return "closed" if situation.state == SituationState.closed else "being_handled"
