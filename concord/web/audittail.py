"""The latest audit entries a worker keeps for its pages, as compact JSON.

Each worker tails `concord.audit` and keeps its latest `kept` entries (the whole log
stays on the topic). Decoded, an entry is about 1.3 KB of Python objects; kept as its
JSON it is about 250 bytes, so 100,000 entries cost some 30 MB rather than 130. Pages ask
for what they show and only that is decoded: a situation's entries by subject (an index
by subject), the audit log's entries filtered on their text before they are decoded, the
indicators' task transitions.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator

from concord.streams.audit import AuditEntry


def _needle(name: str, value: str) -> bytes:
    """How `"name": value` reads in an entry's JSON (pydantic writes no spaces)."""
    return f'"{name}":{json.dumps(value, ensure_ascii=False)}'.encode()


class AuditTail:
    """The latest entries, oldest first, as their JSON, with an index by subject."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._entries: deque[tuple[str, bytes]] = deque()
        #: a list each (a deque costs 600 bytes even when it holds one entry)
        self._by_subject: dict[str, list[bytes]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, entry: AuditEntry) -> None:
        """Keep an entry; the oldest goes once `kept` are held."""
        raw = entry.model_dump_json().encode()
        self._entries.append((entry.subject, raw))
        self._by_subject.setdefault(entry.subject, []).append(raw)
        if len(self._entries) > self.kept:
            subject, _ = self._entries.popleft()
            of_subject = self._by_subject[subject]
            del of_subject[0]  # a subject's entries are in the same order: the oldest
            if not of_subject:
                del self._by_subject[subject]

    def __iter__(self) -> Iterator[AuditEntry]:
        """Every entry kept, oldest first, decoded."""
        for _, raw in list(self._entries):
            yield AuditEntry.model_validate_json(raw)

    def about(self, subjects: Iterable[str]) -> list[AuditEntry]:
        """The entries about any of `subjects`, oldest first."""
        found = [
            AuditEntry.model_validate_json(raw)
            for subject in dict.fromkeys(subjects)
            for raw in self._by_subject.get(subject, ())
        ]
        return sorted(found, key=lambda e: e.at)

    def newest(
        self, start: int, count: int, actor: str = "", action: str = "", subject: str = ""
    ) -> tuple[int, list[AuditEntry]]:
        """How many entries are by `actor` (exactly), have an action that starts with
        `action` and a subject that contains `subject`; and `count` of them from the
        `start`-th, newest first. The text is looked at before an entry is decoded: an
        entry that cannot match, or that is not shown, is never decoded."""
        newest_first = [raw for _, raw in reversed(self._entries)]
        if not (actor or action or subject):
            shown = newest_first[start : start + count]
            return len(newest_first), [AuditEntry.model_validate_json(raw) for raw in shown]
        needles = [
            _needle("actor", actor) if actor else b"",
            _needle("action", action)[:-1] if action else b"",  # a prefix: no closing quote
            json.dumps(subject, ensure_ascii=False)[1:-1].encode(),
        ]
        found = []
        for raw in newest_first:
            if not all(n in raw for n in needles):
                continue
            e = AuditEntry.model_validate_json(raw)
            if (
                (not actor or e.actor == actor)
                and (not action or e.action.startswith(action))
                and (not subject or subject in e.subject)
            ):
                found.append(e)
        return len(found), found[start : start + count]

    def with_detail(self, name: str, values: Iterable[str]) -> Iterator[AuditEntry]:
        """The entries whose detail `name` is one of `values`, oldest first."""
        wanted = frozenset(values)
        needles = [_needle(name, v) for v in wanted]
        for _, raw in list(self._entries):
            if any(n in raw for n in needles):
                entry = AuditEntry.model_validate_json(raw)
                if entry.details.get(name, "") in wanted:
                    yield entry
