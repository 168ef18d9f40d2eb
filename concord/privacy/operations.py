"""The CLI's side of data protection, with kafka-python: erase, retention, access
requests and key rotation. The rules are `concord.core.erasure`'s; every action here is
an audit entry on `concord.audit` (who, when, why)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from concord.cli.kafka import audited, kafka_producer, read_deadletters, read_keys, read_records
from concord.common.types import utcnow
from concord.config.directory import load_directory
from concord.config.settings import Settings
from concord.core.erasure import ERASED, Due, Retention, due, erasure_of, holders, shredding
from concord.privacy.blobs import blobs_for
from concord.privacy.keys import SealError, key_id, sealer_for
from concord.streams import topics as t
from concord.streams.audit import AuditEntry, AuditRecord
from concord.streams.keys import DataKey
from concord.streams.situations import Situation


def _audit(producer: Any, entry: AuditEntry) -> None:
    record = AuditRecord(entries=[entry]).model_dump_json().encode()
    producer.send(t.AUDIT.name, key=entry.subject.encode(), value=record)


def erased_subjects(settings: Settings) -> set[str]:
    """The subjects erased before (their `signal.erased` audit entries)."""
    return audited(settings, ERASED)


def situations(settings: Settings) -> list[Situation]:
    """The latest snapshot of every situation."""
    latest: dict[str, bytes | None] = {}
    for key, value in read_records(settings, t.SITUATIONS.name):
        latest[key] = value
    out = []
    for value in latest.values():
        if value is not None:
            try:
                out.append(Situation.model_validate_json(value))
            except ValidationError:
                continue
    return out


def tombstone(settings: Settings, items: Iterable[Due], actor: str, via: str) -> int:
    """Tombstone each item's keys and audit its erasure, then delete the files given with
    it from the evidence store (unreadable already once the keys are gone); return how
    many items."""
    producer = kafka_producer(settings)
    done: list[str] = []
    try:
        for item in items:
            writes = shredding(item, actor, via)
            for key_id in writes.keys:
                producer.send(t.KEYS.name, key=key_id.encode(), value=None)
            _audit(producer, writes.entry)
            done.append(writes.subject)
        producer.flush()
    finally:
        producer.close()
    blobs = blobs_for(settings)
    for subject in done:
        blobs.delete(subject)
    return len(done)


@dataclass
class Erasure:
    """What `erase` did: the subjects erased, and those left (why)."""

    erased: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def erase(settings: Settings, subjects: list[str], reason: str, actor: str) -> Erasure:
    """Erase the personal data of these signals, or of dead letters by their ids
    (`dl-P-O`: the bytes of a record that named no signal), audited."""
    keys = read_keys(settings)
    before = erased_subjects(settings)
    letters = _letter_keys(settings) if any(LETTER.fullmatch(s) for s in subjects) else {}
    result = Erasure()
    chosen = []
    for subject in subjects:
        found = erasure_of(subject, keys, before)
        if LETTER.fullmatch(subject) and letters.get(subject) in keys:
            found = Due(subject, (letters[subject],), reason)
        if isinstance(found, str):
            result.refused.append(found)
        else:
            chosen.append(Due(found.subject, found.keys, reason))
            result.erased.append(subject)
    tombstone(settings, chosen, actor, "cli")
    return result


#: A dead letter's id (`concord deadletter show`): erasable by it, whatever its bytes are.
LETTER = re.compile(r"dl-\d+-\d+")


def _letter_keys(settings: Settings) -> dict[str, str]:
    """Dead letter id -> the id of the data key sealing its original bytes."""
    out = {}
    for letter_id, dead, _ in read_deadletters(settings, 10**9, False):
        found = key_id(dead.original)
        if found is not None:
            out[letter_id] = found
    return out


def retention_due(settings: Settings, now: datetime | None = None) -> list[Due]:
    """What the retention policy erases now."""
    policy = Retention(settings.retention_days, settings.unattached_retention_days)
    return due(list(read_keys(settings).values()), situations(settings), now or utcnow(), policy)


@dataclass(frozen=True)
class Found:
    """A signal that names a contact (an access request's answer)."""

    subject: str
    received: datetime
    situation: str | None


def find(settings: Settings, contact: str, actor: str, reason: str) -> list[Found]:
    """The signals whose persons name `contact`, from the keyed-hash index; audited
    (the entry keeps the contact's hash, never the contact)."""
    sealer = sealer_for(settings, load_directory(settings.directory).city.region)
    digest = sealer.contact_digest(contact)
    keys = [k for k in read_keys(settings).values() if digest in k.contacts]
    held = holders(situations(settings))
    out: dict[str, Found] = {}
    for key in sorted(keys, key=lambda k: k.created_at):
        home = held.get(key.subject)
        out.setdefault(key.subject, Found(key.subject, key.created_at, home.id if home else None))
    producer = kafka_producer(settings)
    try:
        details = {"contact_hash": digest[:16], "found": str(len(out)), "reason": reason}
        _audit(
            producer,
            AuditEntry(
                actor=actor,
                action="persons.searched",
                subject=f"contact:{digest[:16]}",
                via="cli",
                details=details,
            ),
        )
        producer.flush()
    finally:
        producer.close()
    return list(out.values())


@dataclass
class Rotation:
    """What `rotate` did: keys re-wrapped, already under the new key, and not re-wrapped."""

    rewrapped: int = 0
    current: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    primary: str = ""


def rotate(settings: Settings, actor: str) -> Rotation:
    """Re-wrap every live data key under the ring's first key (same key id: compaction
    drops the old wrapping); audited. Workers go on reading throughout: each knows every
    key of the ring."""
    sealer = sealer_for(settings)
    result = Rotation(primary=sealer.primary)
    fresh: list[DataKey] = []
    for key in read_keys(settings).values():
        try:
            new = sealer.rewrap(key)
        except SealError as exc:
            result.failed[key.id] = str(exc)
            continue
        if new is None:
            result.current += 1
        else:
            fresh.append(new)
    producer = kafka_producer(settings)
    try:
        for key in fresh:
            producer.send(t.KEYS.name, key=key.id.encode(), value=key.model_dump_json().encode())
        result.rewrapped = len(fresh)
        details = {
            "to": result.primary,
            "rewrapped": str(len(fresh)),
            "failed": str(len(result.failed)),
        }
        _audit(
            producer,
            AuditEntry(
                actor=actor,
                action="keys.rotated",
                subject="concord.keys",
                via="cli",
                details=details,
            ),
        )
        producer.flush()
    finally:
        producer.close()
    return result
