"""The panel's gate: `concord.review-events` -> the `reviews` table -> tasks, situation
state, panel notices.

One review per situation, keyed by situation id, so one worker applies a situation's
events in order. The rules are `concord.core.gate.handle`; this stage carries out its
effects. The time limit is a timer that scans the table and sends a `tick` for each
deadline that has passed: the deadline lives in the table (and its changelog), so it
survives a restart and moves with the partition.

Effects are carried out before the table is written: a crash in between replays the
event, and the effects land again where they are idempotent (task ids, situation
states); the panel may then be notified twice, never not at all.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import faust

from concord.agents.stage import consume, every
from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core import joining
from concord.core.amend import AmendError, amend
from concord.core.correlation import area_key
from concord.core.gate import handle
from concord.core.gate_effects import Cancel, Effect, Hold, MoveSituation, Notify, Release
from concord.core.refusal import Refused
from concord.delivery.compose import Compose
from concord.streams.reviews import AnalysisVersion, ReviewEvent, ReviewRecord
from concord.streams.situations import SituationCommand
from concord.streams.tables import Shape, Table
from concord.streams.tasks import TaskEvent
from concord.streams.votes import Decision
from concord.worker.live import LivePlaybooks
from concord.worker.runtime import Flow

log = logging.getLogger(__name__)

#: The notices counted on /metrics (reminders and amendments are not outcomes).
COUNTED = ("opened", "approved", "rejected", "no_quorum", "stalled")


@dataclass(frozen=True)
class Gate:
    """What the gate reads and writes."""

    flow: Flow
    directory: Directory
    playbooks: LivePlaybooks
    compose: Compose
    #: situation id -> its review: every analysis version, the votes, the outcome
    reviews: Table[ReviewRecord]
    #: how often, at most, the panel is told of signals that joined (`core.joining`)
    interval: timedelta = joining.AMEND_INTERVAL

    @property
    def members(self) -> list[str]:
        """The panel members who vote, by directory id."""
        return [m.id for m in self.directory.panel.members]


async def send_tasks(s: Gate, events: list[TaskEvent]) -> None:
    """Hand released tasks to the track stage (on `concord.task-events`)."""
    for event in events:
        await s.flow.topics.task_events.send(key=event.task_id, value=event)


async def carry_out(s: Gate, record: ReviewRecord, effect: Effect) -> None:
    """One effect of the rules: tasks held, released or cancelled, the situation moved,
    the panel told."""
    if isinstance(effect, Hold):
        await send_tasks(
            s, [TaskEvent(task_id=x.id, action="created", task=x) for x in effect.tasks]
        )
    elif isinstance(effect, Cancel):
        cancel = functools.partial(TaskEvent, action="cancel", actor="panel", reason=effect.reason)
        await send_tasks(s, [cancel(task_id=x.id) for x in effect.tasks])
    elif isinstance(effect, Release):
        release = functools.partial(TaskEvent, action="release", actor="panel")
        await send_tasks(s, [release(task_id=x.id, task=x) for x in effect.tasks])
        stamp = effect.tasks[0].review if effect.tasks else None
        await s.flow.audit(
            "concord",
            "review.released",
            record.situation_id,
            by=stamp.released_by if stamp else "",
            version=str(record.version),
            tasks=",".join(x.id for x in effect.tasks),
        )
    elif isinstance(effect, MoveSituation):
        command = SituationCommand(
            situation_id=record.situation_id,
            key=area_key(record.area, record.exercise),
            action="state",
            to=effect.to,
            actor="panel",
            reason=effect.reason,
        )
        # Keyed like the signals (by zone): the correlation stage applies it.
        zone = s.directory.zone(record.area)
        await s.flow.topics.situation_commands.send(key=zone, value=command)
    elif isinstance(effect, Notify):
        if effect.kind in COUNTED:
            s.flow.metrics.reviews.labels(effect.kind).inc()
        s.flow.observer.review(record, effect.kind)
        for outgoing in s.compose.review_notices(record, effect.kind, effect.version, utcnow()):
            await s.flow.post(outgoing)


def resolve(
    s: Gate, record: ReviewRecord | None, event: ReviewEvent
) -> AnalysisVersion | Refused | None:
    """The amended version for an `amend` vote (or the reason it cannot be made)."""
    vote = event.vote
    if record is None or vote is None or vote.decision != Decision.amend:
        return None
    if event.amendment is None:
        return Refused("an amend vote needs an amendment", by=vote.member)
    lookup = s.playbooks.matcher.by_id.get
    try:
        return amend(record, event.amendment, vote.member, lookup, s.directory, utcnow())
    except AmendError as exc:
        return Refused(str(exc), by=vote.member)


async def review_one(s: Gate, event: ReviewEvent) -> None:
    """One review event (open, vote, tick): the rules, their effects, the new record."""
    log.info("review %s: %s", event.situation_id, event.kind)
    record = s.reviews.get(event.situation_id)
    amended = resolve(s, record, event)
    effects: list[Effect]
    if isinstance(amended, Refused):
        after, effects = record, [amended]
    else:
        after, effects = handle(record, event, s.members, utcnow(), amended, s.interval)
    changed = after is not None and after != record
    if event.vote is not None and changed:
        s.flow.metrics.votes.labels(str(event.vote.decision)).inc()
        await s.flow.audit(
            event.vote.member,
            f"review.{event.vote.decision}",
            event.situation_id,
            via=event.vote.via,
            version=str(event.vote.version),
            reason=event.vote.reason,
        )
    target = after or record
    for effect in effects:
        if isinstance(effect, Refused):  # also when no review exists at all
            await s.flow.audit(
                "concord",
                "review.vote_refused",
                event.situation_id,
                member=effect.by,
                reason=effect.reason,
            )
        elif target is not None:
            await carry_out(s, target, effect)
    if changed and after is not None:
        s.reviews[event.situation_id] = after
        await s.flow.topics.reviews.send(key=after.situation_id, value=after)


async def send_ticks(s: Gate) -> None:
    """A `tick` for every review whose time limit, or held-back notice, is due."""
    # Each worker looks at the reviews it holds; a tick for a deadline that has moved
    # meanwhile (a second worker, a slow agent) is ignored by `handle`.
    now = utcnow()
    for key, deadline in s.reviews.project("deadline", _waiting_until):
        if deadline is not None and deadline <= now:
            tick = ReviewEvent(situation_id=key, kind="tick", deadline=deadline)
            await s.flow.topics.review_events.send(key=key, value=tick)


def _waiting_until(stored: Any) -> datetime | None:
    """A stored review's next deadline while it waits on the panel (the scan's
    projection): its time limit, or the notice of signals that joined, held back."""
    outcome = stored.get("outcome")
    due = [
        stored.get("deadline") if outcome in ("pending", "no_quorum") else None,
        stored.get("tell_at") if outcome == "pending" else None,
    ]
    return min((datetime.fromisoformat(x) for x in due if x), default=None)


async def run(s: Gate, stream: Any) -> None:
    """The gate stage's loop over `concord.review-events`."""
    topic = s.flow.topics.review_events
    await consume(s.flow, "gate", topic, stream, functools.partial(review_one, s))


def register(
    app: faust.App,
    flow: Flow,
    directory: Directory,
    playbooks: LivePlaybooks,
    compose: Compose,
    shape: Shape,
    tick_seconds: float,
    interval: timedelta = joining.AMEND_INTERVAL,
) -> None:
    """Create the gate's table and bind its agent and its deadline timer."""
    table = Table(app, "reviews", ReviewRecord, shape)
    s = Gate(flow, directory, playbooks, compose, table, interval)
    app.agent(flow.topics.review_events.channel, name="concord.review")(functools.partial(run, s))
    every(app, tick_seconds, "review deadlines", functools.partial(send_ticks, s))
