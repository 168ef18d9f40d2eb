"""The data keys of personal data: `concord.keys` (compacted, keyed by key id).

Each sealed value (a signal's persons and unscrubbed summary, a dead letter's original
bytes) has its own data key. The key travels here, wrapped by the installation's master
key (`CONCORD_DATA_KEY`), never beside the ciphertext: a tombstone for the key id erases
the value everywhere it was copied (topics, changelogs, the archive) without rewriting
them. This is crypto-shredding; `docs/privacy.md` says what remains.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from concord.common.types import Strict, utcnow


class DataKey(Strict):
    """One data key, wrapped (`concord.keys`)."""

    id: str = Field(description="the key id named in the sealed value (`v2.<id>.<body>`)")
    subject: str = Field(
        description="what it seals: a signal id (a dead letter of a signal: that signal's "
        "id; of unreadable bytes: the record's place, e.g. concord.signals.in/0/12)"
    )
    wrapped: str = Field(description="the data key, encrypted by the master key")
    kek: str = Field(description="fingerprint of the master key that wrapped it")
    contacts: list[str] = Field(
        default_factory=list,
        description="keyed hashes of the contacts the value names (access requests)",
    )
    created_at: AwareDatetime = Field(default_factory=utcnow)
