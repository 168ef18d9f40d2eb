"""Review: `concord.review-events` -> the `reviews` table -> tasks, situation state, panel.

One review per situation, keyed by situation id, so one worker applies a situation's
events in order. The rules are `concord.core.gate.handle`; this agent carries out its
effects. The time limit is a Faust timer that scans the table and sends a `tick` for
each deadline that has passed: the deadline lives in the table (and its changelog), so
it survives a restart and moves with the partition.

Effects are carried out before the table is written: a crash in between replays the
event, and the effects land again where they are idempotent (task ids, situation
states); the panel may then be notified twice, never not at all.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from concord.agents.stage import consume, survives
from concord.core.amend import AmendError, amend
from concord.core.correlation import area_key
from concord.core.gate import (
    Cancel,
    Effect,
    Hold,
    MoveSituation,
    Notify,
    Refused,
    Release,
    handle,
)
from concord.streams.codec import dump
from concord.streams.reviews import ReviewEvent, ReviewRecord
from concord.streams.situations import SituationCommand
from concord.streams.tasks import TaskEvent
from concord.streams.votes import Decision
from concord.types import utcnow

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)


def register(c: Concord) -> None:
    reviews = c.app.Table("reviews", default=None, partitions=c.settings.partitions)
    c.tables["reviews"] = reviews
    events = c.topics.review_events
    records_out = c.topics.reviews
    task_events = c.topics.task_events
    commands_out = c.topics.situation_commands
    members = [m.id for m in c.directory.panel.members]

    async def notify(record: ReviewRecord, effect: Notify) -> None:
        for outgoing in c.compose.review_notices(record, effect.kind, effect.version, utcnow()):
            await c.post(outgoing)

    async def carry_out(record: ReviewRecord, effect: Effect) -> None:
        if isinstance(effect, Hold):
            for task in effect.tasks:
                event = TaskEvent(task_id=task.id, action="created", task=task)
                await task_events.send(key=task.id, value=event)
        elif isinstance(effect, Cancel):
            for task in effect.tasks:
                event = TaskEvent(
                    task_id=task.id, action="cancel", actor="panel", reason=effect.reason
                )
                await task_events.send(key=task.id, value=event)
        elif isinstance(effect, Release):
            for task in effect.tasks:
                event = TaskEvent(task_id=task.id, action="release", actor="panel", task=task)
                await task_events.send(key=task.id, value=event)
            stamp = effect.tasks[0].review if effect.tasks else None
            await c.audit(
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
            await commands_out.send(key=c.directory.zone(record.area), value=command)
        elif isinstance(effect, Notify):
            if effect.kind in ("opened", "approved", "rejected", "no_quorum", "stalled"):
                c.metrics.reviews.labels(effect.kind).inc()
            c.observer.review(record, effect.kind)
            await notify(record, effect)

    def resolve(record: ReviewRecord | None, event: ReviewEvent) -> Any:
        """The amended version for an `amend` vote (or the reason it cannot be made)."""
        vote = event.vote
        if record is None or vote is None or vote.decision != Decision.amend:
            return None
        if event.amendment is None:
            return Refused(vote.member, "an amend vote needs an amendment")
        lookup = c.playbooks.matcher.by_id.get
        try:
            return amend(record, event.amendment, vote.member, lookup, c.directory, utcnow())
        except AmendError as exc:
            return Refused(vote.member, str(exc))

    async def review_one(event: ReviewEvent) -> None:
        log.info("review %s: %s", event.situation_id, event.kind)
        stored = reviews.get(event.situation_id)
        record = ReviewRecord.model_validate(stored) if stored else None
        amended = resolve(record, event)
        effects: list[Effect]
        if isinstance(amended, Refused):
            after, effects = record, [amended]
        else:
            after, effects = handle(record, event, members, utcnow(), amended)
        changed = after is not None and after != record
        if event.vote is not None and changed:
            c.metrics.votes.labels(str(event.vote.decision)).inc()
            await c.audit(
                event.vote.member,
                f"review.{event.vote.decision}",
                event.situation_id,
                channel=event.vote.channel,
                version=str(event.vote.version),
                reason=event.vote.reason,
            )
        target = after or record
        for effect in effects:
            if isinstance(effect, Refused):  # also when no review exists at all
                await c.audit(
                    "concord",
                    "review.vote_refused",
                    event.situation_id,
                    member=effect.member,
                    reason=effect.reason,
                )
            elif target is not None:
                await carry_out(target, effect)
        if changed and after is not None:
            reviews[event.situation_id] = dump(after)
            await records_out.send(key=after.situation_id, value=after)

    @c.app.agent(events.channel, name="concord.review")
    async def review_agent(stream: Any) -> None:
        await consume(c, "review", events, stream, review_one)

    @c.app.timer(c.settings.tick_seconds, on_leader=False)
    @survives("review deadlines")
    async def review_deadlines() -> None:
        # Each worker looks at the reviews it holds; a tick for a deadline that has
        # moved meanwhile (a second worker, a slow agent) is ignored by `handle`.
        now = utcnow()
        for key, stored in list(reviews.items()):
            waiting = stored.get("outcome") in ("pending", "no_quorum")
            deadline = stored.get("deadline") if waiting else None
            if deadline and datetime.fromisoformat(deadline) <= now:
                tick = ReviewEvent(
                    situation_id=key, kind="tick", deadline=datetime.fromisoformat(deadline)
                )
                await events.send(key=key, value=tick)
