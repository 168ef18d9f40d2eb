"""Taking a panel vote, whatever the channel (API, review page, email link, Slack).

The checks run here against the read model, so the voter gets a clear answer at once
(422 with the field, 404, 409); they are the core's (`concord.core.tally.check_vote`,
`concord.core.amend.amend`). The gate checks again against its table, which is the
truth, and audits a vote it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from concord.common.types import utcnow
from concord.core.amend import AmendError, amend
from concord.core.tally import ReviewError, check_vote, latest_votes
from concord.streams.reviews import ReviewEvent, ReviewRecord, VoteIn
from concord.streams.votes import Vote, VoteVia
from concord.web.answer import Answer
from concord.web.site import Site
from concord.worker.live import LivePlaybooks


@dataclass(frozen=True)
class Ballot:
    """What taking a vote needs: the site, and the playbooks an amendment may add."""

    site: Site
    playbooks: LivePlaybooks


def parse_vote(body: Any) -> VoteIn | Answer:
    """The vote a body asks for, or the 422 answer that names the fields."""
    try:
        return VoteIn.model_validate(body)
    except ValidationError as exc:
        return Answer.invalid("vote", exc)


def check(b: Ballot, record: ReviewRecord | None, member: str, vote: VoteIn) -> Answer | None:
    """Why this vote cannot be taken, or None."""
    directory = b.site.directory
    if directory.panel_member(member) is None:
        return Answer(403, {"error": f"{member} is not a member of the expert panel"})
    if record is None:
        return Answer(404, {"error": "no review is open for this situation"})
    if record.outcome != "pending":
        return Answer(409, {"error": f"the review is already {record.outcome}"})
    probe = Vote(member=member, decision=vote.decision, version=vote.version, reason=vote.reason)
    try:
        check_vote(probe, record.votes, record.version)
    except ReviewError as exc:
        return Answer(409, {"error": str(exc), "version": record.version})
    if vote.amendment is not None:
        lookup = b.playbooks.matcher.by_id.get
        try:
            amend(record, vote.amendment, member, lookup, directory, utcnow())
        except AmendError as exc:
            errors = [{"loc": exc.loc, "msg": exc.msg}]
            return Answer(422, {"error": "invalid amendment", "errors": errors})
    return None


async def submit(
    b: Ballot,
    situation_id: str,
    member: str,
    vote: VoteIn,
    via: VoteVia,
    at: datetime | None = None,
) -> Answer:
    """Check the vote and put it on `concord.review-events` (202 once the broker has it).

    `at`: when the member voted, when the channel says so (Slack's click time); a vote
    the member already cast (same decision and reason on the same version) is answered
    200 and changes nothing."""
    record = b.site.readmodel.reviews.get(situation_id)
    refused = check(b, record, member, vote)
    if refused is not None:
        return refused
    assert record is not None
    body = {
        "situation_id": situation_id,
        "member": member,
        "decision": str(vote.decision),
        "version": vote.version,
    }
    if vote.amendment is None and repeats(record, member, vote):
        return Answer(200, {"accepted": True, "unchanged": True, **body})
    cast = Vote(
        member=member,
        decision=vote.decision,
        version=vote.version,
        reason=vote.reason,
        via=via,
        **({"at": at} if at is not None else {}),
    )
    event = ReviewEvent(situation_id=situation_id, kind="vote", vote=cast, amendment=vote.amendment)
    await b.site.flow.acked(b.site.flow.topics.review_events.send(key=situation_id, value=event))
    return Answer(202, {"accepted": True, **body})


def repeats(record: ReviewRecord, member: str, vote: VoteIn) -> bool:
    """Whether this is the member's latest vote already (same decision, version, reason)."""
    latest = latest_votes(record.votes).get(member)
    return latest is not None and (latest.decision, latest.version, latest.reason) == (
        vote.decision,
        vote.version,
        vote.reason,
    )
