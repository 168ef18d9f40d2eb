"""`POST /slack/actions`: Slack's interactivity requests (buttons on Concord's messages).

Every request is verified with Slack's signing secret (`X-Slack-Signature`, and a
`X-Slack-Request-Timestamp` no older than 5 minutes: slack_sdk's SignatureVerifier);
a missing, malformed, bad or stale signature gets 401 and changes nothing. A request
seen before (same signature) is answered and ignored: a captured click replayed inside
the 5 minutes does nothing. The Slack user is mapped to a panel member through the
directory (`slack_user`); anyone else is told politely that they are not on the panel.
A vote is dated by Slack's `action_ts` (when the member clicked), so a replay can never
be newer than what the member did after it. The answer goes back at once; the vote is
put on `concord.review-events` like any other.

Task buttons: Acknowledge and Done are recorded at once (on `concord.task-events`);
Decline opens a modal asking for the reason, and its submission declines. The Slack
user is mapped to a liaison by the directory's `slack_user`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

import faust
from faust.web import Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from slack_sdk.signature import SignatureVerifier

from concord.common.types import utcnow
from concord.notifiers.base import SendError, Views
from concord.streams.reviews import VoteIn
from concord.web import tasks, votes
from concord.web.auth import Actor
from concord.web.body import BodyError, read_body
from concord.web.i18n import N_
from concord.web.site import bind, error, json_response, route
from concord.web.throttle import Once
from concord.web.votes import Ballot
from concord.worker import acks

log = logging.getLogger(__name__)

MAX_BODY = 64_000
WINDOW = 5 * 60  # seconds a signed request stays valid (Slack's rule)
_DECISIONS = {"review.approve": "approve", "review.conflict": "conflict"}


class _Slack(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlackUser(_Slack):
    """The Slack user who clicked."""

    id: str = Field(max_length=64)


class SlackAction(_Slack):
    """One button of a Slack interaction."""

    action_id: str = Field("", max_length=255)
    value: str = Field("", max_length=2000)
    action_ts: str | None = Field(None, max_length=32)


class BlockActions(_Slack):
    """A button click (`type: block_actions`)."""

    type: Literal["block_actions"]
    user: SlackUser
    actions: list[SlackAction] = Field(default_factory=list, max_length=10)
    trigger_id: str = Field("", max_length=255)


class SubmittedView(_Slack):
    """A submitted modal's values."""

    private_metadata: str = Field("", max_length=3000)
    state: dict[str, Any] = Field(default_factory=dict)

    def text(self, block: str, action: str = "text") -> str:
        """The value typed into an input block, '' when absent."""
        found = ((self.state.get("values") or {}).get(block) or {}).get(action) or {}
        value = found.get("value") if isinstance(found, dict) else None
        return value if isinstance(value, str) else ""


class ViewSubmission(_Slack):
    """A modal's submission (`type: view_submission`)."""

    type: Literal["view_submission"]
    user: SlackUser
    view: SubmittedView


class OtherPayload(_Slack):
    """An interaction Concord does not handle."""

    type: str = Field(max_length=64)


#: What Slack users read in answer to a click (the catalogues translate it).
NOT_A_LIAISON = N_("Sorry, your Slack account is not a liaison in Concord's directory.")
NOT_A_MEMBER = N_("Sorry, only members of the expert panel can vote on an analysis.")
NO_FORM = N_("Could not open the form (%(why)s); decline on the task page.")
NOTHING_TO_DO = N_("Nothing to do for this button.")
RECORDED = N_("Recorded: %(what)s.")
NOT_RECORDED = N_("Not recorded: %(why)s")
STALE = N_("This button is not valid any more.")
VOTED = N_("Your vote (%(decision)s) on version %(version)s is recorded.")
NOT_VOTED = N_("Your vote was not taken: %(why)s")
NOT_NOW = N_("Not recorded: Concord could not confirm it just now. Try again in a few seconds.")
#: How long an answer to Slack waits for the broker: Slack gives up after 3 s.
SLACK_WAITS = 2.5
DECLINE_TITLE = N_("Decline the task")
WHY = N_("Why? (the coordinator is told)")
YOU_ARE_NOT_A_LIAISON = N_("You are not a liaison.")

#: (message, language) -> the message in that language
Say = Callable[[str, str], str]


def decline_modal(task_id: str, say: Say, language: str) -> dict[str, Any]:
    """The modal that asks a liaison why they decline a task, in their language."""
    return {
        "type": "modal",
        "callback_id": "task.decline",
        "private_metadata": task_id,
        "title": {"type": "plain_text", "text": say(DECLINE_TITLE, language)[:24]},
        "submit": {"type": "plain_text", "text": say("Decline", language)[:24]},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": say(WHY, language)},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }


def _reply(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def replay_guard(clock: Callable[[], float] = time.monotonic) -> Once:
    """Signatures seen in the last 5 minutes: each signed request is taken once."""
    return Once(WINDOW, clock)


def clicked_at(action: SlackAction) -> datetime:
    """When the person clicked (Slack's `action_ts`), or now when Slack did not say."""
    now = utcnow()
    try:
        at = datetime.fromtimestamp(float(action.action_ts or ""), UTC)
    except (ValueError, OverflowError, OSError):
        return now
    # Signed requests are at most 5 minutes old; anything else is not a click time.
    return at if now - timedelta(seconds=WINDOW) <= at <= now else now


def parse_payload(body: bytes) -> BlockActions | ViewSubmission | OtherPayload | None:
    """The interactivity payload of a verified request, or None when there is none."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=20)
        data = json.loads(form["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    models: dict[str, type[_Slack]] = {
        "block_actions": BlockActions,
        "view_submission": ViewSubmission,
    }
    model = models.get(str(data.get("type")), OtherPayload)
    try:
        found = model.model_validate(data)
    except ValidationError:
        return None
    assert isinstance(found, BlockActions | ViewSubmission | OtherPayload)
    return found


@dataclass
class Actions:
    """What Slack's buttons and modals do, for one worker."""

    ballot: Ballot
    #: Slack's modals; None when Slack is not configured
    views: Views | None
    verifier: SignatureVerifier | None
    replays: Once = field(default_factory=lambda: replay_guard())
    #: Slack user -> panel member
    members: dict[str, str] = field(init=False)
    #: Slack user -> (liaison, agency)
    liaisons: dict[str, tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        directory = self.ballot.site.directory
        self.members = {m.slack_user: m.id for m in directory.panel.members if m.slack_user}
        self.liaisons = {
            x.slack_user: (x.id, agency.id)
            for agency in directory.agencies
            for x in agency.liaisons
            if x.slack_user
        }

    def say(self, person: str | None, message: str, **values: Any) -> str:
        """A message in the person's language (the city's when unknown), its `%(x)s`
        filled; a value that is a message id (a refusal's text) is translated too."""
        catalogues = self.ballot.site.pages.catalogues
        lang = self.ballot.site.pages.language_of_person(person)
        words = {k: catalogues.message(str(v), lang) for k, v in values.items()}
        return catalogues.message(message, lang, words)

    def reply(self, person: str | None, message: str, **values: Any) -> dict[str, Any]:
        """An ephemeral answer to a click, in the clicker's language."""
        return _reply(self.say(person, message, **values))

    def not_now(self, payload: ViewSubmission | BlockActions) -> dict[str, Any]:
        """The answer to a click or a form whose record the broker did not confirm in
        time: nothing recorded, click again (in the clicker's language)."""
        found = self.liaisons.get(payload.user.id)
        person = found[0] if found else self.members.get(payload.user.id)
        if isinstance(payload, ViewSubmission):
            return {"response_action": "errors", "errors": {"reason": self.say(person, NOT_NOW)}}
        return self.reply(person, NOT_NOW)

    async def task_action(self, payload: BlockActions, action: SlackAction) -> dict[str, Any]:
        """Acknowledge / Done at once; Decline opens a modal that asks for the reason."""
        verb = action.action_id.removeprefix("task.")
        found = self.liaisons.get(payload.user.id)
        if found is None:
            return self.reply(None, NOT_A_LIAISON)
        person = found[0]
        if verb == "decline":
            try:
                await self.open_decline_modal(payload.trigger_id, action.value, person)
            except SendError as exc:
                return self.reply(person, NO_FORM, why=str(exc))
            return {}
        if verb not in ("ack", "done"):
            return self.reply(person, NOTHING_TO_DO)
        who = Actor(person, "liaison", found[1])
        site = self.ballot.site
        answer = await tasks.submit(site, action.value, who, verb, None, "slack")
        if answer.ok:
            return self.reply(person, RECORDED, what=tasks.past(verb))
        return self.reply(person, NOT_RECORDED, why=answer.body.get("error"))

    async def open_decline_modal(self, trigger_id: str, task_id: str, person: str) -> None:
        """Open the modal that asks a liaison why they decline, in their language."""
        if self.views is None:  # a click from a workspace this worker cannot answer
            raise SendError("Slack is not configured here", retryable=False)
        pages = self.ballot.site.pages
        language = pages.language_of_person(person)
        modal = decline_modal(task_id, pages.catalogues.message, language)
        await self.views.open_view(trigger_id, modal)

    async def submitted(self, payload: ViewSubmission) -> dict[str, Any]:
        """The decline modal's submission: the reason is required by Slack and by us."""
        task_id, reason = payload.view.private_metadata, payload.view.text("reason")
        found = self.liaisons.get(payload.user.id)
        if found is None:
            why = self.say(None, YOU_ARE_NOT_A_LIAISON)
            return {"response_action": "errors", "errors": {"reason": why}}
        who = Actor(found[0], "liaison", found[1])
        answer = await tasks.submit(self.ballot.site, task_id, who, "decline", reason, "slack")
        if answer.ok:
            return {}  # closes the modal
        why = self.say(found[0], answer.problem)
        return {"response_action": "errors", "errors": {"reason": why}}

    async def clicked(self, payload: BlockActions) -> dict[str, Any]:
        """A button click: a panel vote or a task action."""
        action = payload.actions[0] if payload.actions else SlackAction()
        if action.action_id.startswith("task."):
            return await self.task_action(payload, action)
        decision = _DECISIONS.get(action.action_id)
        if decision is None:
            return self.reply(None, NOTHING_TO_DO)
        member = self.members.get(payload.user.id)
        if member is None:
            return self.reply(None, NOT_A_MEMBER)
        situation_id, _, version = action.value.partition("|")
        try:
            vote = VoteIn(decision=decision, version=int(version))
        except ValueError:
            return self.reply(member, STALE)
        at = clicked_at(action)
        answer = await votes.submit(self.ballot, situation_id, member, vote, "slack", at)
        if answer.ok:
            return self.reply(member, VOTED, decision=decision, version=version)
        return self.reply(member, NOT_VOTED, why=answer.body.get("error"))

    def verified(self, body: bytes, stamp: str, signature: str) -> bool:
        """Signed by Slack with our signing secret, less than 5 minutes ago."""
        assert self.verifier is not None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False  # Slack sends UTF-8 only: not a request of Slack's
        return bool(
            stamp.isdigit() and signature and self.verifier.is_valid(text, stamp, signature)
        )


async def slack_actions(actions: Actions, request: Request) -> Response:
    """`POST /slack/actions`."""
    if actions.verifier is None:
        return error(503, "CONCORD_SLACK_SIGNING_SECRET is not set")
    try:
        body = await read_body(request, MAX_BODY)
    except BodyError as exc:
        return error(exc.code, exc.detail)
    stamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not actions.verified(body, stamp, signature):
        return error(401, "invalid Slack signature")
    if not actions.replays.first(signature):
        log.warning("Slack request replayed (signature seen before): ignored")
        return json_response(_reply("Already recorded."))
    payload = parse_payload(body)
    if payload is None:
        return error(400, "no interactivity payload")
    if not isinstance(payload, (ViewSubmission, BlockActions)):
        return json_response(_reply("Not supported."))
    with acks.at_most(SLACK_WAITS):
        try:
            if isinstance(payload, ViewSubmission):
                answer = await actions.submitted(payload)
            else:
                answer = await actions.clicked(payload)
        except acks.Unavailable as exc:
            log.warning("a Slack click answered 'not now': %s", exc)
            answer = actions.not_now(payload)
    return json_response(answer)


def register(
    app: faust.App, ballot: Ballot, views: Views | None, signing_secret: SecretStr | None
) -> None:
    """Bind `POST /slack/actions`."""
    verifier = SignatureVerifier(signing_secret.get_secret_value()) if signing_secret else None
    route(app, "/slack/actions", post=bind(slack_actions, Actions(ballot, views, verifier)))
