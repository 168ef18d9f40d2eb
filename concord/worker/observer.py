"""Hooks for what the flow does, so `concord up` can narrate it on the console.

The default observer does nothing; `RichObserver` prints one line per event. Stages
hold a `guarded` observer: whatever an observer does wrong is logged and never breaks
the stage that called it. Text from outside (ids, names) is printed escaped: no Rich
markup, no control characters.

In a burst, the routine lines (signals, firings, messages sent) are printed up to
`LINES_PER_SECOND` a second and the rest counted, then summed up in one line a second
later: a thousand signals a second would otherwise scroll past unread, and each line
costs the worker about 0.3 ms of the CPU it needs for the signals. Dead letters,
undelivered messages, the panel's steps and playbook reloads are always printed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape as markup_escape

from concord.common.logsafe import escape as control_escape
from concord.streams.audit import DeadLetter
from concord.streams.delivery import DeliveryRecord, Outgoing
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import Signal
from concord.streams.situations import Situation
from concord.streams.tasks import Task

log = logging.getLogger(__name__)


def plain(value: object) -> str:
    """Outside text as Rich prints it literally (no markup, no control characters)."""
    return markup_escape(control_escape(str(value)))


class Observer:
    """No-op hooks; subclass and override what you want to see."""

    def signal(self, signal: Signal) -> None:
        """A signal was admitted."""

    def deadletter(self, dead: DeadLetter) -> None:
        """A record went to the dead letters."""

    def fired(self, situation: Situation, playbook_id: str, tasks: list[Task]) -> None:
        """A playbook fired for a situation, with its tasks."""

    def delivered(self, record: DeliveryRecord, outgoing: Outgoing) -> None:
        """A task message was delivered, or could not be (`record.state`)."""

    def reloaded(self, summary: str, problems: list[str]) -> None:
        """The playbooks were reloaded (or a set was refused, with its problems)."""

    def held_back(self, situation: Situation, playbook_id: str, status: str, reason: str) -> None:
        """A matching playbook that did not fire (suppressed or inhibited)."""

    def review(self, record: ReviewRecord, kind: str) -> None:
        """The panel was told something about a review (opened, approved, ...)."""


#: Routine lines printed per second at most (the rest are summed up).
LINES_PER_SECOND = 20
#: The routine lines' kinds, as the summary says them.
PLURALS = {
    "signal": "signals",
    "playbook firing": "playbook firings",
    "message sent": "messages sent",
}


class Budget:
    """How many routine lines may still be printed this second, and what was held back."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._window = clock()
        self._printed = 0
        self.held: Counter[str] = Counter()

    def spend(self, kind: str) -> bool:
        """Whether a `kind` line may be printed now (if not, it is counted)."""
        now = self._clock()
        if now - self._window >= 1.0:
            self._window, self._printed = now, 0
        if self._printed < self.per_second:
            self._printed += 1
            return True
        self.held[kind] += 1
        return False

    def summary(self) -> str | None:
        """The lines held back since the last summary, in one line (None: none)."""
        if not self.held:
            return None
        said = ", ".join(
            f"{n} {kind if n == 1 else PLURALS[kind]}" for kind, n in self.held.items()
        )
        self.held.clear()
        return f"[dim]… and {said} (not shown one by one: see the board)[/]"


class RichObserver(Observer):
    """Narrates the flow on the terminal."""

    def __init__(self, console: Console | None = None, budget: Budget | None = None) -> None:
        self.console = console or Console()
        self.budget = budget or Budget(LINES_PER_SECOND)
        self._summary_due = False

    def _routine(self, kind: str) -> bool:
        """Whether a routine line may be printed; if not, a summary follows a second later."""
        if self.budget.spend(kind):
            return True
        if not self._summary_due:
            self._summary_due = True
            try:
                asyncio.get_running_loop().call_later(1.0, self.flush)
            except RuntimeError:  # no event loop (a test, a CLI): summed up at once
                self.flush()
        return False

    def flush(self) -> None:
        """Print the summary of the lines held back, if any."""
        self._summary_due = False
        said = self.budget.summary()
        if said is not None:
            self.console.print(said)

    def _drill(self, exercise: bool) -> str:
        return "[black on yellow] EXERCISE [/] " if exercise else ""

    def signal(self, signal: Signal) -> None:
        """Print the admitted signal."""
        if not self._routine("signal"):
            return
        self.console.print(
            f"{self._drill(signal.exercise)}[cyan]signal[/] {plain(signal.id)} "
            f"{signal.category} severity {signal.severity} in [bold]{plain(signal.area)}[/]"
        )

    def deadletter(self, dead: DeadLetter) -> None:
        """Print the dead letter's reason."""
        where = "" if dead.stage == "intake" else f" ({plain(dead.stage)})"
        errors = plain(dead.errors[:2])
        self.console.print(f"[red]dead-letter[/]{where} {plain(dead.reason)}: {errors}")

    def fired(self, situation: Situation, playbook_id: str, tasks: list[Task]) -> None:
        """Print the playbook that fired and its tasks."""
        if not self._routine("playbook firing"):
            return
        agencies = plain(", ".join(t.agency for t in tasks))
        self.console.print(
            f"{self._drill(situation.exercise)}[magenta]playbook[/] "
            f"[bold]{plain(playbook_id)}[/] fired for {situation.id} ({plain(situation.area)}): "
            f"{len(tasks)} task(s) for {agencies}"
        )

    def delivered(self, record: DeliveryRecord, outgoing: Outgoing) -> None:
        """Print where a message went."""
        drill = self._drill(outgoing.message.exercise)
        what = plain(repr(outgoing.label))
        if record.state == "delivered":
            if not self._routine("message sent"):
                return
            retries = record.total_attempts - 1
            self.console.print(
                f"{drill}[green]sent[/] {what} to [bold]{plain(outgoing.agency or '')}[/]/"
                f"{plain(record.recipient)} via {record.delivered_by}"
                + (f" after {retries} failed attempt(s)" if retries > 0 else "")
            )
        else:
            self.console.print(
                f"{drill}[red]NOT delivered[/] {what} to {plain(record.recipient)}: "
                f"{plain(record.last_error or '')}"
            )

    def held_back(self, situation: Situation, playbook_id: str, status: str, reason: str) -> None:
        """Print a playbook held back (suppressed or inhibited), and why."""
        self.console.print(
            f"{self._drill(situation.exercise)}[magenta]playbook[/] {plain(playbook_id)} {status} "
            f"for {situation.id}: {plain(reason)}"
        )

    def review(self, record: ReviewRecord, kind: str) -> None:
        """Print a review's step."""
        what = {
            "opened": "awaits the panel",
            "amended": "amended: the panel votes again",
            "reminder": "time limit reached: panel reminded",
            "approved": f"approved by {plain(', '.join(record.approvals))}",
            "rejected": "rejected by the panel: nothing is sent",
            "no_quorum": "no quorum possible: the coordinator decides",
            "stalled": "no decision after the reminders: the coordinator is told",
        }.get(kind, kind)
        self.console.print(
            f"{self._drill(record.exercise)}[blue]panel[/] analysis v{record.version} of "
            f"{record.situation_id} {what}"
        )

    def reloaded(self, summary: str, problems: list[str]) -> None:
        """Print a reload, or the problems of a refused set."""
        if problems:
            self.console.print(
                f"[red]playbook change refused[/] ({len(problems)} problem(s)); "
                "the last good set stays live"
            )
            for p in problems[:10]:
                self.console.print(f"   {p}", markup=False, highlight=False)
        else:
            self.console.print(f"[magenta]playbooks reloaded[/]: {plain(summary)}")


_HOOKS = ("signal", "deadletter", "fired", "delivered", "reloaded", "held_back", "review")


class _Guarded(Observer):
    """Calls the wrapped observer; logs (and swallows) whatever it raises."""

    def __init__(self, inner: Observer) -> None:
        self.inner = inner


def _guard(name: str) -> Any:
    def hook(self: _Guarded, *args: Any, **kwargs: Any) -> None:
        try:
            getattr(self.inner, name)(*args, **kwargs)
        except Exception:  # narration is never worth a lost record
            log.exception("observer %s failed", name)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(_Guarded, _name, _guard(_name))


def guarded(observer: Observer) -> Observer:
    """`observer`, with every hook unable to raise."""
    return observer if isinstance(observer, _Guarded) else _Guarded(observer)
