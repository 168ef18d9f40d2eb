"""`POST /slack/actions`: Slack's interactivity requests (buttons on Concord's messages).

Every request is verified with Slack's signing secret (`X-Slack-Signature`, and a
`X-Slack-Request-Timestamp` no older than 5 minutes: slack_sdk's SignatureVerifier);
a missing, bad or stale signature gets 401 and changes nothing. The Slack user is mapped
to a panel member through the directory (`slack_user`); anyone else is told politely
that they are not on the panel. The answer goes back at once; the vote is put on
`concord.review-events` like any other.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from aiohttp import web
from faust.web import Request, Response, View
from slack_sdk.signature import SignatureVerifier

from concord.streams.reviews import VoteIn
from concord.web import votes
from concord.web.readmodel import ReadModel

if TYPE_CHECKING:
    from concord.app import Concord

log = logging.getLogger(__name__)

MAX_BODY = 64_000
_DECISIONS = {"review.approve": "approve", "review.conflict": "conflict"}


def _reply(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def register(c: Concord, view: ReadModel) -> None:
    secret = c.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
    by_slack_user = {m.slack_user: m.id for m in c.directory.panel.members if m.slack_user}

    async def act(payload: dict[str, Any]) -> dict[str, Any]:
        actions = payload.get("actions") or []
        action = actions[0] if actions else {}
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
            if payload.get("type") != "block_actions":
                return self.json(_reply("Not supported."))
            return self.json(await act(payload))
