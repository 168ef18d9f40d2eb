"""The playbooks in force in a worker, and their live reload.

The worker polls the playbooks directory (a fingerprint of names, sizes and mtimes,
then the file digests) and reloads when it changed. A valid set replaces the one in
force at once, without a restart; an invalid set is refused, its problems logged, and
the last good set stays live. Every version that was in force stays known, so a
decision taken under version N is planned with version N.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from concord.config.directory import Directory
from concord.core.decisions import Rules
from concord.dryrun.examples import check_playbooks
from concord.playbooks.loader import PlaybookSet, playbook_files
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reload:
    """What a reload did: `applied` (new set live), `refused`, or `unchanged`."""

    outcome: str
    loaded: PlaybookSet | None = None

    @property
    def problems(self) -> list[str]:
        """The problems of the set this reload read (none when it was applied or unchanged)."""
        return [str(p) for p in self.loaded.problems] if self.loaded else []


def fingerprint(path: Path) -> str:
    """Changes whenever a playbook file is added, removed or edited."""
    digest = hashlib.sha256()
    try:
        files = playbook_files([path])
    except OSError:
        return ""
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


class LivePlaybooks:
    """The set of playbooks in force, its matcher and decision rules."""

    def __init__(self, path: Path, directory: Directory, window: timedelta) -> None:
        self.path = path
        self.directory = directory
        self.window = window
        self.current = PlaybookSet()
        self.rules = Rules(Matcher([], directory), window, linked=directory.linked_bias)
        self._known: dict[tuple[str, int], Playbook] = {}
        self._seen = ""
        self._content = ""

    @property
    def matcher(self) -> Matcher:
        """The matcher of the set in force."""
        return self.rules.matcher

    def get(self, playbook_id: str, version: int) -> Playbook | None:
        """The playbook as it was at `version`, else the one in force (if any)."""
        found = self._known.get((playbook_id, version))
        if found is not None:
            return found
        current = self.rules.matcher.by_id.get(playbook_id)
        return current if current is not None and current.version >= version else None

    def reload(self) -> PlaybookSet:
        """Load from disk; apply only when every file is valid."""
        self._seen = fingerprint(self.path)
        loaded = check_playbooks([self.path], self.directory)
        if loaded.ok:
            self.current = loaded
            self.rules = Rules(
                Matcher(loaded.playbooks, self.directory),
                self.window,
                dict(loaded.revisions),
                linked=self.directory.linked_bias,
            )
            self._known.update({(p.id, p.version): p for p in loaded.playbooks})
            self._content = ",".join(f"{k}={v}" for k, v in sorted(loaded.revisions.items()))
        else:
            for problem in loaded.problems:
                log.error("playbook refused: %s", problem)
        for warning in loaded.warnings:
            log.warning("playbook: %s", warning)
        return loaded

    def poll(self) -> Reload:
        """Reload when the directory changed since the last look."""
        if fingerprint(self.path) == self._seen:
            return Reload("unchanged")
        before = self._content
        loaded = self.reload()
        if not loaded.ok:
            return Reload("refused", loaded)
        return Reload("applied" if self._content != before else "unchanged", loaded)
