"""Who may see which personal data of a report: the sharing level and each person's consent.

Pure functions. Personal data (`persons` and the unscrubbed summary) never leaves Concord
in a message; a signed-in person sees it on the task page, or through the API, only:

- while the task is *with them* (assigned, acknowledged, escalated or reassigned to their
  agency or to them): not while the panel still holds it, not after it is done, declined
  or cancelled (data minimisation: the need to know ends with the task);
- as far as their agency's sharing level allows:

  ========== ==============================================================
  none       nothing about the persons, not even their roles
  roles      who was involved (victim, witness, reporter), no names
  consented  name and contact of each person who consented to sharing;
             the role only for the others
  full       every name and contact, and the report's summary as written
             (e.g. victim support, bound by professional confidentiality)
  ========== ==============================================================

The files given with a report (evidence) and where it was seen online follow the same
rule as a contact: at `full`, or at `consented` when a person of the report consented to
sharing (`shares_given`). The same holds for a competent body's view of a referral.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from concord.config.directory import Directory, Sharing
from concord.core.tasks import ACTIVE, may_act
from concord.streams.signals import EvidenceRef, Online, Person
from concord.streams.tasks import Task

#: Coordinators see who was involved, not who they are: names are for the agency acting.
COORDINATOR_SHARING = Sharing.roles


def sharing_of(directory: Directory, person: str, role: str, agency: str | None) -> Sharing:
    """The viewer's sharing level: their agency's (`none` if unknown), `roles` for
    coordinators."""
    if role == "coordinator":
        return COORDINATOR_SHARING
    found = directory.liaison(person)
    home = found[0] if found else (directory.agency(agency) if agency else None)
    return home.sharing if home else Sharing.none


@dataclass(frozen=True)
class PersonView:
    """One person as the viewer may see them (`None`: withheld)."""

    role: str
    name: str | None = None
    contact: str | None = None
    consented: bool = False


@dataclass(frozen=True)
class SignalView:
    """The personal data of one signal, cut to the viewer's sharing level."""

    signal_id: str
    persons: list[PersonView] = field(default_factory=list)
    withheld: int = 0  # persons whose name and contact were not shown
    summary: str | None = None  # the unscrubbed summary, only at `full`
    erased: bool = False  # its personal data was erased: nothing left to show
    evidence: list[EvidenceRef] = field(default_factory=list)  # files the viewer may open
    online: Online | None = None  # where it was seen online, if the viewer may see it
    withheld_files: int = 0  # files not shown at this level (without consent)

    @property
    def names_shown(self) -> int:
        """How many persons were shown by name or contact."""
        return sum(1 for p in self.persons if p.name is not None or p.contact is not None)


class NotDisclosed(Exception):
    """The viewer may not see this task's personal data now; the message says why."""


class NotYours(NotDisclosed):
    """The viewer may not see this task at all (answered as if it did not exist)."""


def check_access(task: Task, person: str, role: str, agency: str | None) -> None:
    """Raise NotYours unless the viewer may act on the task, NotDisclosed unless the task
    is in someone's hands."""
    if not may_act(task, person, role, agency):
        raise NotYours("no such task for you")
    if task.state not in ACTIVE:
        raise NotDisclosed(
            f"the task is {task.state.value}: personal data is shown only while a task is "
            "assigned, acknowledged, escalated or reassigned"
        )


def shares_given(persons: Iterable[Person], level: Sharing) -> bool:
    """Whether the viewer may see what people gave beyond their words: the files, the
    link seen online (at `full`; at `consented` when someone consented to sharing)."""
    return level is Sharing.full or (
        level is Sharing.consented and any(p.consent_to_share for p in persons)
    )


def disclose(
    signal_id: str,
    persons: Iterable[Person],
    summary: str,
    level: Sharing,
    evidence: Iterable[EvidenceRef] = (),
    online: Online | None = None,
) -> SignalView:
    """The persons of one signal as someone with sharing `level` may see them, with the
    files and the link seen online where `shares_given`."""
    people = list(persons)
    files = list(evidence)
    if shares_given(people, level):
        view = _persons(signal_id, people, summary, level)
        return replace(view, evidence=files, online=online)
    return replace(_persons(signal_id, people, summary, level), withheld_files=len(files))


def _persons(signal_id: str, people: list[Person], summary: str, level: Sharing) -> SignalView:
    if level is Sharing.none:
        return SignalView(signal_id, [], withheld=len(people))
    shown: list[PersonView] = []
    withheld = 0
    for p in people:
        if level is Sharing.full or (level is Sharing.consented and p.consent_to_share):
            shown.append(PersonView(p.role, p.name or None, p.contact or None, p.consent_to_share))
        else:
            shown.append(PersonView(p.role, consented=p.consent_to_share))
            withheld += 1
    return SignalView(signal_id, shown, withheld, summary if level is Sharing.full else None)
