"""The panel's gate in front of dispatch: `handle(review, event) -> (review, effects)`. Pure.

The gate agent keeps one `ReviewRecord` per situation, applies events to it here and
carries out the effects (hold or release tasks, move the situation, tell the panel);
they are idempotent where they land, so an event replayed after a crash does no harm.

Rules, beyond the vote tally of `concord.core.tally`:

- `open`: a playbook that needs review fired. Its tasks are held (`awaiting: panel`),
  the situation goes `under_review`, the panel is told. A second playbook for the same
  situation joins the pending review as a new analysis version (votes on the earlier
  version must be cast again); after a decision it opens a new round.
- `vote`: a valid vote is recorded, whatever it changes; dissent is never dropped.
  `amend` adds the version the agent resolved from the amendment. Then:
  approved -> every held task of the approved version is released, each stamped with
  the version and the votes; tasks dropped by amendments are cancelled; the situation
  goes `responding`. Rejected -> held tasks are cancelled, the situation goes
  `monitoring`. A vote after the decision is recorded and changes nothing.
  No quorum (conflicts leave too few members) -> the coordinators are told, the tasks
  stay held, and the time limit keeps acting.
- `joined`: a signal joined the situation during the review: a new analysis version,
  the panel told (`amended`) at most once per amend interval, the versions it was not
  told of folded into one (`concord.core.joining`); votes on the earlier version must be
  cast again. A `tick` for `tell_at` tells it of the version held back.
- `tick`: the time limit is reached. `hold`: remind the panel and wait another time
  limit. `urgent_only`: release the urgent tasks (stamped `time_limit`) and remind.
  After `MAX_REMINDERS` reminders the timer stops and the coordinators are told
  (`stalled`); votes are still taken.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from concord.core import joining
from concord.core.analysis import with_new_signals
from concord.core.gate_effects import (
    Cancel,
    Effect,
    Hold,
    MoveSituation,
    Notify,
    Release,
    Result,
)
from concord.core.refusal import Refused
from concord.core.tally import ReviewError, check_vote, latest_votes, tally
from concord.playbooks.schema import Playbook
from concord.streams.reviews import (
    DEFAULT_AT_LIMIT,
    DEFAULT_QUORUM,
    DEFAULT_TIME_LIMIT,
    AnalysisVersion,
    Proposal,
    ReviewEvent,
    ReviewRecord,
)
from concord.streams.situations import Situation, SituationState
from concord.streams.tasks import Task, TaskState
from concord.streams.votes import Decision, ReviewStamp

#: Reminders the panel gets before the gate stops reminding and tells the coordinators
#: (`stalled`): a silent panel must reach a person who can act, not fill inboxes forever.
MAX_REMINDERS = 3


def propose(
    pb: Playbook, tasks: list[Task], revision: str = "", like: Proposal | None = None
) -> Proposal:
    """A playbook's proposal; one without `review` (added by the panel) takes `like`'s rules."""
    rules = pb.review or like
    return Proposal(
        playbook=pb.id,
        version=pb.version,
        revision=revision,
        title=pb.title,
        quorum=rules.quorum if rules else DEFAULT_QUORUM,
        time_limit=rules.time_limit if rules else DEFAULT_TIME_LIMIT,
        at_limit=rules.at_limit if rules else DEFAULT_AT_LIMIT,
        tasks=tasks,
    )


def handle(
    record: ReviewRecord | None,
    event: ReviewEvent,
    members: list[str],
    now: datetime,
    amended: AnalysisVersion | None = None,
    interval: timedelta = joining.AMEND_INTERVAL,
) -> Result:
    """The review after `event`, and what must happen because of it; `interval` is how
    often, at most, the panel is told of signals that joined."""
    if event.kind == "open":
        after, effects = _open(record, event, members, now)
    elif event.kind == "vote":
        after, effects = _vote(record, event, members, now, amended)
    elif event.kind == "joined":
        after, effects = _joined(record, event, members, now, interval)
    else:
        after, effects = _tick(record, event, now)
    kinds = [e.kind for e in effects if isinstance(e, Notify)]
    return joining.told(after, kinds, now), effects


def _joined(
    record: ReviewRecord | None,
    event: ReviewEvent,
    members: list[str],
    now: datetime,
    interval: timedelta,
) -> Result:
    """Signals that joined while the review is pending: a new analysis version, or the
    untold one taking them in; the panel told now or when the interval has passed."""
    if record is None or event.situation is None or record.outcome != "pending":
        return record, []
    version = with_new_signals(record, event.situation, now)
    if version is None:
        return record, []
    # Folded into a version held back: told when that one is (or now, if nothing waits).
    later = (record.tell_at if joining.untold(record) else None) or joining.tell_when(
        record, now, interval
    )
    record = record.model_copy(
        update={
            "situation": event.situation,
            "versions": joining.take_in(record, version),
            "tell_at": later,
            "updated_at": now,
        }
    )
    return _count(record, members), [] if later else [Notify("amended", record.version)]


def _first(
    situation: Situation, proposal: Proposal, held: list[Task], deadline: datetime, now: datetime
) -> Result:
    """A situation's first review: version 1 of its analysis."""
    first = AnalysisVersion(
        version=1,
        at=now,
        by="concord",
        severity=situation.severity,
        proposals=[proposal.model_copy(update={"tasks": held})],
        changes=[f"{proposal.playbook} proposed"],
    )
    record = ReviewRecord(
        situation_id=situation.id,
        area=situation.area,
        exercise=situation.exercise,
        situation=situation,
        opened_at=now,
        versions=[first],
        deadline=deadline,
        updated_at=now,
    )
    return record, [
        Hold(held),
        MoveSituation(SituationState.under_review, f"{proposal.playbook} needs the panel"),
        Notify("opened", 1),
    ]


def _open(
    record: ReviewRecord | None, event: ReviewEvent, members: list[str], now: datetime
) -> Result:
    situation, proposal = event.situation, event.proposal
    if situation is None or proposal is None:
        return record, []
    held = [_held(t) for t in proposal.tasks]
    deadline = now + proposal.time_limit
    if record is None:
        return _first(situation, proposal, held, deadline, now)
    ids = {t.id for t in proposal.tasks}
    if any(_ids(p.tasks) == ids for v in record.versions for p in v.proposals):
        return record, []  # replayed: nothing new (a repeat's new tasks have new ids)
    pending = record.outcome == "pending"
    kept = list(record.current.proposals) if pending else []
    version = AnalysisVersion(
        version=record.version + 1,
        at=now,
        by="concord",
        severity=max(situation.severity, record.current.severity),
        proposals=[*kept, proposal.model_copy(update={"tasks": held})],
        notes=list(record.current.notes),
        changes=[f"{proposal.playbook} proposed (fired on signal {situation.last_signal})"],
    )
    if pending and record.deadline:
        deadline = min(deadline, record.deadline)
    record = record.model_copy(
        update={
            "situation": situation,
            "versions": [*record.versions, version],
            "outcome": "pending",
            "decided_at": None,
            "deadline": deadline,
            # A new time limit (also after a stall) starts a new round of reminders.
            "reminders": record.reminders if deadline == record.deadline else 0,
            "updated_at": now,
        }
    )
    record = _count(record, members)
    return record, [
        Hold(held),
        MoveSituation(SituationState.under_review, f"{proposal.playbook} needs the panel"),
        Notify("amended" if pending else "opened", version.version),
    ]


def _vote(
    record: ReviewRecord | None,
    event: ReviewEvent,
    members: list[str],
    now: datetime,
    amended: AnalysisVersion | None,
) -> Result:
    vote = event.vote
    if vote is None:
        return record, []
    if record is None:
        return record, [Refused("no review is open for this situation", by=vote.member)]
    if vote.member not in members:
        return record, [Refused(f"{vote.member} is not on the panel", by=vote.member)]
    if any(
        (v.member, v.at, v.decision) == (vote.member, vote.at, vote.decision) for v in record.votes
    ):
        return record, []  # replayed (an amend vote is stored with the version it made)
    latest = latest_votes(record.votes).get(vote.member)
    if (
        vote.decision != Decision.amend
        and latest is not None
        and (latest.decision, latest.version, latest.reason)
        == (vote.decision, vote.version, vote.reason)
    ):
        return record, []  # the member's latest vote already: nothing to record
    try:
        check_vote(vote, record.votes, record.version)
    except ReviewError as exc:
        return record, [Refused(str(exc), by=vote.member)]
    effects: list[Effect] = []
    versions = list(record.versions)
    if vote.decision == Decision.amend:
        if amended is None or amended.version != record.version + 1:
            return record, [Refused("the amendment could not be applied", by=vote.member)]
        if record.outcome != "pending":
            return record, [Refused(f"the review is already {record.outcome}", by=vote.member)]
        kept = {t.id for t in amended.tasks()}
        dropped = [t for t in record.current.tasks() if t.id not in kept | set(record.released)]
        new = [_held(t) for t in amended.tasks() if t.id not in _ids(record.current.tasks())]
        versions.append(amended)
        # The member amended the version they saw; the vote approves the version it made.
        vote = vote.model_copy(update={"version": amended.version})
        effects += [Hold(new)] if new else []
        if dropped:
            reason = f"dropped by {vote.member}'s amendment (version {amended.version})"
            effects.append(Cancel([_cancelled(t) for t in dropped], reason))
        effects.append(Notify("amended", amended.version))
    decided_before = record.outcome
    record = record.model_copy(
        update={"votes": [*record.votes, vote], "versions": versions, "updated_at": now}
    )
    if decided_before != "pending":
        return _count(record, members, decide=False), effects  # recorded, nothing changes
    record = _count(record, members)
    return _decide(record, now, effects)


def _decide(record: ReviewRecord, now: datetime, effects: list[Effect]) -> Result:
    if record.outcome == "pending":
        return record, effects
    if record.outcome == "no_quorum":
        # Nothing is decided: the tasks stay held, and the time limit still acts (an
        # urgent task, such as protecting a victim, must not wait on a blocked panel).
        return record, [*effects, Notify("no_quorum", record.version)]
    record = record.model_copy(update={"decided_at": now, "deadline": None})
    waiting = [t for t in record.current.tasks() if t.id not in record.released]
    old = {t.id for v in record.versions[:-1] for t in v.tasks()}
    dropped_earlier = old - _ids(record.current.tasks()) - set(record.released)
    if record.outcome == "approved":
        stamp = ReviewStamp(
            analysis_version=record.version,
            released_by="panel",
            approvals=list(record.approvals),
            dissent=list(record.dissent),
            at=now,
        )
        released = [_release(t, stamp) for t in waiting]
        record = record.model_copy(
            update={
                "released": [*record.released, *(t.id for t in released)],
                "cancelled": sorted(set(record.cancelled) | dropped_earlier),
            }
        )
        effects += [
            Release(released),
            MoveSituation(SituationState.responding, "the panel approved the analysis"),
            Notify("approved", record.version),
        ]
    elif record.outcome == "rejected":
        record = record.model_copy(
            update={"cancelled": sorted(set(record.cancelled) | _ids(waiting) | dropped_earlier)}
        )
        effects += [
            Cancel([_cancelled(t) for t in waiting], "the panel rejected the analysis"),
            MoveSituation(SituationState.monitoring, "the panel rejected the analysis"),
            Notify("rejected", record.version),
        ]
    return record, effects


def _tick(record: ReviewRecord | None, event: ReviewEvent, now: datetime) -> Result:
    if record is not None and event.deadline is not None and event.deadline == record.tell_at:
        # The notice of signals that joined, held back until the interval passed.
        waiting = record.outcome == "pending" and joining.behind(record)
        record = record.model_copy(update={"tell_at": None})
        return record, [Notify("amended", record.version)] if waiting else []
    if (
        record is None
        or record.outcome not in ("pending", "no_quorum")
        or record.deadline is None
        or event.deadline != record.deadline
    ):
        return record, []  # decided, or a tick for a deadline that has moved
    effects: list[Effect] = []
    urgent = [
        t
        for p in record.current.proposals
        if p.at_limit == "urgent_only"
        for t in p.tasks
        if t.urgent and t.id not in record.released
    ]
    if urgent:
        stamp = ReviewStamp(
            analysis_version=record.version,
            released_by="time_limit",
            approvals=list(record.approvals),
            at=now,
        )
        released = [_release(t, stamp) for t in urgent]
        effects.append(Release(released))
        record = record.model_copy(update={"released": [*record.released, *_ids(released)]})
    effects.append(Notify("reminder", record.version))
    reminders = record.reminders + 1
    deadline: datetime | None = now + record.time_limit
    if reminders >= MAX_REMINDERS:
        # Votes are still taken; only the timer stops. The coordinators decide what next.
        effects.append(Notify("stalled", record.version))
        deadline = None
    record = record.model_copy(
        update={"reminders": reminders, "deadline": deadline, "updated_at": now}
    )
    return record, effects


def _count(record: ReviewRecord, members: list[str], decide: bool = True) -> ReviewRecord:
    """Recount the current version's votes; `decide=False` keeps a decision already made."""
    decided = None if decide else record.outcome
    t = tally(record.votes, record.version, record.quorum, members, decided)
    return record.model_copy(
        update={
            "outcome": t.outcome,
            "approvals": t.approvals,
            "rejections": t.rejections,
            "conflicts": t.conflicts,
            "dissent": t.dissent,
        }
    )


def _ids(tasks: list[Task]) -> set[str]:
    return {t.id for t in tasks}


def _held(task: Task) -> Task:
    return task.model_copy(update={"awaiting": "panel"})


def _release(task: Task, stamp: ReviewStamp) -> Task:
    return task.model_copy(update={"awaiting": None, "review": stamp, "updated_at": stamp.at})


def _cancelled(task: Task) -> Task:
    return task.model_copy(update={"state": TaskState.cancelled, "awaiting": None})
