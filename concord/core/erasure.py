"""Erasure and retention of personal data: which data keys to tombstone, and why. Pure.

Personal data is erased by tombstoning its data keys on `concord.keys` (crypto-shredding,
see `concord.keys`). A signal's data is erased

- on request: `concord erase SIGNAL_ID --reason ...` (art. 17, a mistake, a court order);
- `Retention.closed_days` after the situation holding it closed;
- `Retention.unattached_days` after it arrived, when no situation ever held it (a report
  nobody acted on, a dead letter never replayed).

Every erasure is one `signal.erased` audit entry: who, when, why. What it leaves is the
signal's facts without anyone in them: category, area, time, severity, how many persons
in which roles. The indicators are counted from those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from concord.streams.audit import AuditEntry
from concord.streams.keys import DataKey
from concord.streams.situations import Situation, SituationState

#: The audit action of an erasure; its subject is the signal id.
ERASED = "signal.erased"
#: The actor of erasures made by the retention policy.
RETENTION_ACTOR = "retention"


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept (`CONCORD_RETENTION_DAYS`,
    `CONCORD_UNATTACHED_RETENTION_DAYS`)."""

    closed_days: int = 180
    unattached_days: int = 30


@dataclass(frozen=True)
class Due:
    """A subject whose personal data is due for erasure: its keys, and why."""

    subject: str
    keys: tuple[str, ...]
    reason: str


def erasure_entry(item: Due, actor: str, via: str) -> AuditEntry:
    """The audit entry of an erasure, wherever it is made (a worker's retention, the CLI)."""
    details = {"reason": item.reason, "keys": str(len(item.keys))}
    return AuditEntry(actor=actor, action=ERASED, subject=item.subject, via=via, details=details)


@dataclass(frozen=True)
class Shredding:
    """What one erasure writes, wherever it is made (a worker's retention, the CLI):
    a tombstone for each data key on `concord.keys`, then `entry` on `concord.audit`,
    keyed by `subject`. The writers only carry it out."""

    subject: str
    keys: tuple[str, ...]
    entry: AuditEntry


def shredding(item: Due, actor: str, via: str) -> Shredding:
    """The writes that erase `item` (see `Shredding`)."""
    return Shredding(item.subject, tuple(item.keys), erasure_entry(item, actor, via))


def keys_of(subject: str, keys: Iterable[DataKey]) -> list[str]:
    """The ids of the live data keys that seal `subject`'s data (a signal sealed twice,
    by a replay, or its dead letters: all of them)."""
    return sorted(k.id for k in keys if k.subject == subject)


def holders(situations: Iterable[Situation]) -> dict[str, Situation]:
    """Signal id -> the situation holding it now (a merge moves signals into the
    absorbing situation: the one not merged into another wins)."""
    out: dict[str, Situation] = {}
    for situation in sorted(situations, key=lambda x: x.merged_into is None):
        for ref in situation.signals:
            out[ref.id] = situation
    return out


def due(
    keys: Iterable[DataKey],
    situations: Iterable[Situation],
    now: datetime,
    policy: Retention,
) -> list[Due]:
    """Every subject whose data the policy says must go now, oldest reason first."""
    by_subject: dict[str, list[DataKey]] = {}
    for key in keys:
        by_subject.setdefault(key.subject, []).append(key)
    held = holders(situations)
    out: list[tuple[datetime, Due]] = []
    for subject, its in by_subject.items():
        ids = tuple(sorted(k.id for k in its))
        situation = held.get(subject)
        if situation is None:
            since = min(k.created_at for k in its)
            if now - since >= timedelta(days=policy.unattached_days):
                why = f"never part of a situation, received {since:%Y-%m-%d}"
                out.append((since, Due(subject, ids, f"{why} ({policy.unattached_days} days)")))
        elif situation.state is SituationState.closed:
            since = situation.updated_at
            if now - since >= timedelta(days=policy.closed_days):
                why = f"situation {situation.id} closed {since:%Y-%m-%d}"
                out.append((since, Due(subject, ids, f"{why} ({policy.closed_days} days)")))
    return [d for _, d in sorted(out, key=lambda x: (x[0], x[1].subject))]


def erasure_of(subject: str, keys: Mapping[str, DataKey], erased: Iterable[str]) -> Due | str:
    """What `concord erase SUBJECT` tombstones, or why there is nothing to."""
    ids = keys_of(subject, keys.values())
    if ids:
        return Due(subject, tuple(ids), "on request")
    if subject in set(erased):
        return f"{subject}: erased already"
    return f"{subject}: no personal data is kept for it (a signal id, as on its board page)"
