"""The flow without a broker: intake, correlation, decisions and planning, in memory.

Used by `concord playbooks test` (a dry run) and by the playbooks' examples, so both
exercise exactly the functions the agents call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from pydantic import SecretStr

from concord.config.directory import Directory
from concord.core.correlation import AreaState, step
from concord.core.decisions import Rules
from concord.core.intake import plain_words, seal
from concord.core.planning import PlanningError, plan_or_refuse
from concord.playbooks.loader import PlaybookSet
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook
from concord.privacy.keys import Sealer
from concord.streams.keys import DataKey
from concord.streams.signals import Signal, SignalIn
from concord.streams.situations import PlaybookMatch, Situation
from concord.streams.tasks import Task


@dataclass
class Step:
    """What one signal did."""

    signal: Signal
    situation: Situation
    decisions: list[PlaybookMatch] = field(default_factory=list)  # new or changed ones
    tasks: dict[str, list[Task]] = field(default_factory=dict)  # fired playbook -> tasks
    errors: dict[str, str] = field(default_factory=dict)  # playbook -> planning error
    joined: bool = False  # it joined an open situation (else it opened this one)
    apart: list[Situation] = field(default_factory=list)  # kept apart: another motivation


class Simulator:
    """Feeds signals one by one through the pure stages, keeping the area states."""

    def __init__(self, playbooks: PlaybookSet, directory: Directory, window: timedelta) -> None:
        self.directory = directory
        self.words = plain_words(directory)  # read for every signal: worked out once
        self.matcher = Matcher(playbooks.playbooks, directory)
        self.rules = Rules(
            self.matcher, window, dict(playbooks.revisions), linked=directory.linked_bias
        )
        self.states: dict[str, AreaState] = {}
        # Throwaway key: a simulation keeps nothing but the data keys it made, in memory.
        self.sealer = Sealer(SecretStr(Fernet.generate_key().decode()))
        self.keys: dict[str, DataKey] = {}

    def reset(self) -> None:
        """Forget every area's state: start again from an empty city."""
        self.states.clear()

    def playbook(self, playbook_id: str) -> Playbook | None:
        """The playbook of this id in the set, or None."""
        return self.matcher.by_id.get(playbook_id)

    def feed(self, signal_in: SignalIn, now: datetime) -> Step | None:
        """Process one signal; None when it is a duplicate."""
        signal, key = seal(signal_in, self.sealer, now, self.words)
        self.keys[key.id] = key
        neighbours = self.directory.neighbours(signal.area)
        moved = step(self.states.get, signal, neighbours, self.rules, now)
        if moved.situation is None:
            return None
        self.states.update(moved.states)
        situation = moved.situation
        earlier = {}
        if moved.before is not None:
            earlier = {m.playbook: m for m in moved.before.matches}
        result = Step(signal, situation, joined=moved.before is not None, apart=list(moved.apart))
        for decision in situation.matches:
            if earlier.get(decision.playbook) == decision:
                continue
            result.decisions.append(decision)
            pb = self.playbook(decision.playbook)
            if decision.status != "fired" or pb is None:
                continue
            try:
                result.tasks[pb.id] = plan_or_refuse(
                    situation, pb, self.directory, now, decision.revision, decision.signals
                )
            except PlanningError as exc:  # reported, as the match agent dead-letters it
                result.errors[pb.id] = str(exc)
        return result
