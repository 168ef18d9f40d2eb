"""Intake: raw producer bytes -> a validated Signal, or the reason it is refused. Pure."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from concord.config.directory import Directory
from concord.core import jsonin
from concord.core.evidence import Kept
from concord.core.redaction import cut, scrub, vocabulary
from concord.core.refusal import Refused
from concord.privacy.keys import Sealer
from concord.streams.keys import DataKey
from concord.streams.signals import EvidenceRef, Signal, SignalIn


def field_errors(exc: ValidationError, root: str = "(root)") -> list[dict[str, str]]:
    """pydantic errors as `{"loc": "persons.0.role", "msg": "..."}` (the messages of our
    own validators without pydantic's "Value error, " in front)."""
    return [
        {
            "loc": ".".join(str(p) for p in e["loc"]) or root,
            "msg": e["msg"].removeprefix("Value error, "),
        }
        for e in exc.errors(include_url=False)
    ]


def validate_signal(data: object, directory: Directory) -> SignalIn | Refused:
    """Validate decoded JSON as a producer's signal, including the area code."""
    try:
        signal = SignalIn.model_validate(data)
    except ValidationError as exc:
        return Refused("invalid signal", errors=field_errors(exc))
    if directory.area(signal.area) is None:
        return Refused(
            "unknown area",
            errors=[{"loc": "area", "msg": f"{signal.area!r} is not an area of the directory"}],
        )
    return signal


def parse(raw: bytes, directory: Directory) -> SignalIn | Refused:
    """Decode and validate raw bytes from `concord.signals.in`; never raises."""
    try:
        data = jsonin.loads(raw)
    except jsonin.JsonError as exc:
        return Refused("not JSON", errors=[{"loc": "(root)", "msg": str(exc)}])
    return validate_signal(data, directory)


@dataclass(frozen=True)
class Admission:
    """A signal as it travels on, the data key that opens it (for `concord.keys`), and
    the files given with it, sealed under the same key (blob id, sealed bytes), for the
    evidence store."""

    signal: Signal
    key: DataKey
    blobs: list[tuple[str, bytes]] = field(default_factory=list)


def seal(
    signal: SignalIn, sealer: Sealer, received_at: datetime, keep: Collection[str] = ()
) -> tuple[Signal, DataKey]:
    """The signal as it travels on, and the data key that opens it (`admission`)."""
    admitted = admission(signal, sealer, received_at, keep)
    return admitted.signal, admitted.key


def admission(
    signal: SignalIn,
    sealer: Sealer,
    received_at: datetime,
    keep: Collection[str] = (),
    files: Sequence[Kept] = (),
    referred_to: str | None = None,
) -> Admission:
    """Seal what people wrote and gave, and say what travels on.

    Everything a person wrote is sealed under the signal's own data key: the persons, the
    summary as written, the source's name and where it was seen online in one value; the
    scrubbed summary (`concord.core.redaction`, `keep`: words that are not names here) in
    another; each file in one more. Only codes, counts, digests and times travel in clear.
    The key indexes the persons' contacts (keyed hashes) for access requests."""
    secret: dict[str, object] = {
        "persons": [p.model_dump() for p in signal.persons],
        "summary": signal.summary,
        "source": signal.source.name,
    }
    if signal.online is not None:
        secret["online"] = signal.online.model_dump(mode="json")
    scrubbed = cut(scrub(signal.summary, signal.persons, keep))
    contacts = [p.contact for p in signal.persons]
    refs = [f.ref() for f in files]
    plaintexts = [json.dumps(secret).encode(), scrubbed.encode(), *(f.data for f in files)]
    (sealed, summary_sealed, *blobs), key = sealer.seal_many(signal.id, plaintexts, contacts)
    return Admission(
        _signal(signal, received_at, sealed, summary_sealed, refs, referred_to),
        key,
        [(ref.id, blob.encode()) for ref, blob in zip(refs, blobs, strict=True)],
    )


def _signal(
    signal: SignalIn,
    received_at: datetime,
    sealed: str,
    summary_sealed: str,
    evidence: list[EvidenceRef],
    referred_to: str | None,
) -> Signal:
    return Signal(
        id=signal.id,
        kind=signal.kind,
        category=signal.category,
        bias=signal.bias,
        severity=signal.severity,
        occurred_at=signal.occurred_at,
        received_at=received_at,
        area=signal.area,
        location=signal.location,
        source_type=signal.source.type,
        sealed=sealed,
        summary_sealed=summary_sealed,
        person_count=len(signal.persons),
        person_roles=sorted({p.role for p in signal.persons}),
        language=signal.language,
        exercise=signal.exercise,
        tags=signal.tags,
        wants=signal.wants,
        indicators=signal.indicators,
        evidence=evidence,
        referred_to=referred_to,
    )


def plain_words(directory: Directory) -> frozenset[str]:
    """The words of the directory's names (city, areas, agencies): not a person's.
    Work it out once where the directory is loaded, not per signal (it reads every name)."""
    return vocabulary(directory.names())


def contacts_of(raw: bytes) -> list[str]:
    """The contacts a refused record names (`persons[].contact`, a report's `contact`), so
    an access request finds its dead letters too."""
    try:
        data = jsonin.loads(raw)
    except (jsonin.JsonError, ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    found = [data.get("contact")]
    persons = data.get("persons")
    if isinstance(persons, list):
        found += [p.get("contact") for p in persons if isinstance(p, dict)]
    return [c for c in found if isinstance(c, str) and c.strip()]


def subject_of(raw: bytes, place: str) -> str:
    """Whose data a refused record holds: the signal id it names, if it names one (so
    erasing the signal erases its dead letters too), else the record's place."""
    try:
        data = jsonin.loads(raw)  # bounded: a dead letter is often hostile input
    except (jsonin.JsonError, ValueError, RecursionError):
        return place
    found = data.get("id") if isinstance(data, dict) else None
    return found if isinstance(found, str) and found else place
