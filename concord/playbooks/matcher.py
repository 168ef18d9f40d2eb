"""Which playbooks a situation matches. Pure: no Faust, no I/O.

Playbooks are indexed by category (the field that rules most of them out); a playbook
without a category condition is checked against every situation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from concord.directory import Directory
from concord.playbooks.schema import Playbook, When
from concord.streams.models import Situation


class Matcher:
    """An index over a set of playbooks, built once per (re)load."""

    def __init__(self, playbooks: Iterable[Playbook], directory: Directory) -> None:
        self.directory = directory
        self._by_category: dict[str, list[Playbook]] = defaultdict(list)
        self._any_category: list[Playbook] = []
        self._areas: dict[str, frozenset[str]] = {}
        self.playbooks = [p for p in playbooks if p.enabled]
        for pb in self.playbooks:
            if pb.when.category:
                for cat in pb.when.category:
                    self._by_category[cat].append(pb)
            else:
                self._any_category.append(pb)
            if pb.when.areas:
                codes: set[str] = set()
                for name in pb.when.areas:
                    codes |= directory.areas_in(name)
                self._areas[pb.id] = frozenset(codes)

    def match(self, situation: Situation) -> list[Playbook]:
        """The enabled playbooks whose `when` holds for the situation, in id order."""
        candidates: dict[str, Playbook] = {pb.id: pb for pb in self._any_category}
        for cat in situation.categories:
            for pb in self._by_category.get(cat, ()):
                candidates[pb.id] = pb
        return sorted(
            (pb for pb in candidates.values() if self._holds(pb, situation)),
            key=lambda pb: pb.id,
        )

    def _holds(self, pb: Playbook, s: Situation) -> bool:
        w: When = pb.when
        if w.exercise == "only" and not s.exercise:
            return False
        if w.exercise == "exclude" and s.exercise:
            return False
        if w.kind and not set(w.kind) & set(s.kinds):
            return False
        if w.category and not set(w.category) & set(s.categories):
            return False
        if w.bias and not set(w.bias) & set(s.bias):
            return False
        if w.severity.gte is not None and s.severity < w.severity.gte:
            return False
        if w.severity.lte is not None and s.severity > w.severity.lte:
            return False
        if pb.id in self._areas and s.area not in self._areas[pb.id]:
            return False
        return not (w.tags and not set(w.tags) <= set(s.tags))
