"""Hooks for what the flow does, so `concord up` can narrate it on the console.

The default observer does nothing; `RichObserver` prints one line per event.
"""

from __future__ import annotations

from rich.console import Console

from concord.streams.models import DeadLetter, Receipt, Signal, Situation, Task
from concord.streams.reviews import ReviewRecord


class Observer:
    """No-op hooks; subclass and override what you want to see."""

    def signal(self, signal: Signal) -> None: ...
    def deadletter(self, dead: DeadLetter) -> None: ...
    def fired(self, situation: Situation, playbook_id: str, tasks: list[Task]) -> None: ...
    def delivered(self, task: Task, receipts: list[Receipt]) -> None: ...
    def reloaded(self, summary: str, problems: list[str]) -> None: ...
    def held_back(self, situation: Situation, playbook_id: str, status: str, reason: str) -> None:
        """A matching playbook that did not fire (suppressed or inhibited)."""

    def review(self, record: ReviewRecord, kind: str) -> None:
        """The panel was told something about a review (opened, approved, ...)."""


class RichObserver(Observer):
    """Narrates the flow on the terminal."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def _drill(self, exercise: bool) -> str:
        return "[black on yellow] EXERCISE [/] " if exercise else ""

    def signal(self, signal: Signal) -> None:
        self.console.print(
            f"{self._drill(signal.exercise)}[cyan]signal[/] {signal.id} "
            f"{signal.category} severity {signal.severity} in [bold]{signal.area}[/]"
        )

    def deadletter(self, dead: DeadLetter) -> None:
        self.console.print(f"[red]dead-letter[/] {dead.reason}: {dead.errors[:2]}")

    def fired(self, situation: Situation, playbook_id: str, tasks: list[Task]) -> None:
        agencies = ", ".join(t.agency for t in tasks)
        self.console.print(
            f"{self._drill(situation.exercise)}[magenta]playbook[/] [bold]{playbook_id}[/] fired "
            f"for {situation.id} ({situation.area}): {len(tasks)} task(s) for {agencies}"
        )

    def delivered(self, task: Task, receipts: list[Receipt]) -> None:
        ok = [r for r in receipts if r.ok]
        if ok:
            r = ok[-1]
            self.console.print(
                f"{self._drill(task.exercise)}[green]sent[/] {task.title!r} to "
                f"[bold]{task.agency}[/]/{r.recipient} via {r.channel}"
                + (f" after {len(receipts) - 1} failed attempt(s)" if len(receipts) > 1 else "")
            )
        else:
            last = receipts[-1].error if receipts else "no channel"
            self.console.print(f"[red]NOT delivered[/] {task.title!r} to {task.agency}: {last}")

    def held_back(self, situation: Situation, playbook_id: str, status: str, reason: str) -> None:
        self.console.print(
            f"{self._drill(situation.exercise)}[magenta]playbook[/] {playbook_id} {status} "
            f"for {situation.id}: {reason}"
        )

    def review(self, record: ReviewRecord, kind: str) -> None:
        what = {
            "opened": "awaits the panel",
            "amended": "amended: the panel votes again",
            "reminder": "time limit reached: panel reminded",
            "approved": f"approved by {', '.join(record.approvals)}",
            "rejected": "rejected by the panel: nothing is sent",
            "no_quorum": "no quorum possible: the coordinator decides",
            "stalled": "no decision after the reminders: the coordinator is told",
        }.get(kind, kind)
        self.console.print(
            f"{self._drill(record.exercise)}[blue]panel[/] analysis v{record.version} of "
            f"{record.situation_id} {what}"
        )

    def reloaded(self, summary: str, problems: list[str]) -> None:
        if problems:
            self.console.print(
                f"[red]playbook change refused[/] ({len(problems)} problem(s)); "
                "the last good set stays live"
            )
            for p in problems[:10]:
                self.console.print(f"   {p}", markup=False, highlight=False)
        else:
            self.console.print(f"[magenta]playbooks reloaded[/]: {summary}")
