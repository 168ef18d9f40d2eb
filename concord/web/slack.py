"""`POST /slack/actions`: Slack's interactivity requests (buttons on Concord's messages).

Every request is verified with Slack's signing secret (`X-Slack-Signature`, and a
`X-Slack-Request-Timestamp` no older than 5 minutes: slack_sdk's SignatureVerifier);
a missing, bad or stale signature gets 401 and changes nothing. The Slack user is mapped
to a panel member through the directory (`slack_user`); anyone else is told politely
that they are not on the panel. The answer goes back at once; the vote is put on
`concord.review-events` like any other.

Task buttons: Acknowledge and Done are recorded at once (on `concord.task-events`);
Decline opens a modal asking for the reason, and its submission declines. The Slack
user is mapped to a liaison by the directory's `slack_user`.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from aiohttp import web
from faust.web import Request, Response, View
from slack_sdk.signature import SignatureVerifier

from concord.notifiers.base import SendError
from concord.notifiers.slack import SlackNotifier
from concord.streams.reviews import VoteIn
from concord.web import tasks, votes
from concord.web.readmodel import ReadModel

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

MAX_BODY = 64_000
_DECISIONS = {"review.approve": "approve", "review.conflict": "conflict"}


def decline_modal(task_id: str) -> dict[str, Any]:
    """The modal that asks a liaison why they decline a task."""
    return {
        "type": "modal",
        "callback_id": "task.decline",
        "private_metadata": task_id,
        "title": {"type": "plain_text", "text": "Decline the task"},
        "submit": {"type": "plain_text", "text": "Decline"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why? (the coordinator is told)"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }


def _reply(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def register(c: Concord, view: ReadModel) -> None:
    secret = c.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
    by_slack_user = {m.slack_user: m.id for m in c.directory.panel.members if m.slack_user}

    liaisons = {
        x.slack_user: (x.id, agency.id)
        for agency in c.directory.agencies
        for x in agency.liaisons
        if x.slack_user
    }

    async def task_action(payload: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        """Acknowledge / Done at once; Decline opens a modal that asks for the reason."""
        verb = str(action.get("action_id", "")).removeprefix("task.")
        task_id = str(action.get("value", ""))
        user = str((payload.get("user") or {}).get("id", ""))
        found = liaisons.get(user)
        if found is None:
            return _reply("Sorry, your Slack account is not a liaison in Concord's directory.")
        if verb == "decline":
            try:
                await open_decline_modal(str(payload.get("trigger_id", "")), task_id)
            except SendError as exc:
                return _reply(f"Could not open the form ({exc}); decline on the task page.")
            return {}
        who = (found[0], "liaison", found[1])
        result = await tasks.submit(c, view, task_id, who, verb, None, "slack")
        if result.ok:
            return _reply(f"Recorded: {tasks.PAST[verb]}.")
        return _reply(f"Not recorded: {result.body.get('error')}")

    async def open_decline_modal(trigger_id: str, task_id: str) -> None:
        notifier = c.registry.get("slack")
        if not isinstance(notifier, SlackNotifier):
            return
        await notifier.open_view(trigger_id, decline_modal(task_id))

    async def submitted(payload: dict[str, Any]) -> dict[str, Any]:
        """The decline modal's submission: the reason is required by Slack and by us."""
        view_ = payload.get("view") or {}
        task_id = str(view_.get("private_metadata", ""))
        values = (view_.get("state") or {}).get("values") or {}
        reason = str(((values.get("reason") or {}).get("text") or {}).get("value") or "")
        found = liaisons.get(str((payload.get("user") or {}).get("id", "")))
        if found is None:
            return {"response_action": "errors", "errors": {"reason": "You are not a liaison."}}
        who = (found[0], "liaison", found[1])
        result = await tasks.submit(c, view, task_id, who, "decline", reason, "slack")
        if result.ok:
            return {}  # closes the modal
        detail = result.body.get("errors") or [{"msg": result.body.get("error", "")}]
        return {"response_action": "errors", "errors": {"reason": detail[0]["msg"]}}

    async def act(payload: dict[str, Any]) -> dict[str, Any]:
        actions = payload.get("actions") or []
        action = actions[0] if actions else {}
        if str(action.get("action_id", "")).startswith("task."):
            return await task_action(payload, action)
        decision = _DECISIONS.get(str(action.get("action_id", "")))
        if decision is None:
            return _reply("Nothing to do for this button.")
        member = by_slack_user.get(str((payload.get("user") or {}).get("id", "")))
        if member is None:
            return _reply("Sorry, only members of the expert panel can vote on an analysis.")
        situation_id, _, version = str(action.get("value", "")).partition("|")
        try:
            vote = VoteIn(decision=decision, version=int(version))
        except ValueError:
            return _reply("This button is not valid any more.")
        result = await votes.submit(c, view, situation_id, member, vote, "slack")
        if result.ok:
            return _reply(f"Your vote ({decision}) on version {version} is recorded.")
        return _reply(f"Your vote was not taken: {result.body.get('error')}")

    @c.app.page("/slack/actions")
    class SlackActions(View):
        async def post(self, request: Request) -> Response:
            http = cast(web.Request, request)
            if verifier is None:
                return self.json({"error": "CONCORD_SLACK_SIGNING_SECRET is not set"}, status=503)
            body = await http.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                return self.json({"error": "body too large"}, status=413)
            if not verifier.is_valid(
                body,
                http.headers.get("X-Slack-Request-Timestamp"),
                http.headers.get("X-Slack-Signature"),
            ):
                return self.json({"error": "invalid Slack signature"}, status=401)
            try:
                payload = json.loads(parse_qs(body.decode())["payload"][0])
            except (KeyError, IndexError, ValueError, UnicodeDecodeError):
                return self.json({"error": "no interactivity payload"}, status=400)
            if payload.get("type") == "view_submission":
                return self.json(await submitted(payload))
            if payload.get("type") != "block_actions":
                return self.json(_reply("Not supported."))
            return self.json(await act(payload))
