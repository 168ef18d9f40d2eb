"""The wire formats the stand-ins check, as the real services would refuse them.

Each check returns the problems it found (empty: the request is what the service takes).
They are what `concord.embedded.standin` answers 400 for, and what the channel contract
suite asserts, so a payload the real Teams, Matrix, Mattermost, Rocket.Chat or a
Standard Webhooks receiver would refuse fails a test here first.
"""

from __future__ import annotations

import json
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_structured_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

CARD = "application/vnd.microsoft.card.adaptive"
#: Adaptive Card versions Teams renders.
TEAMS_VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5"}


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every element of a card (body, containers, facts...)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def teams(payload: Any) -> list[str]:
    """A Workflows "post to a channel when a webhook request is received" envelope."""
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return ['the body must be {"type": "message", "attachments": [...]}']
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return ["attachments: exactly one Adaptive Card"]
    att = attachments[0]
    problems = []
    if att.get("contentType") != CARD:
        problems.append(f"attachments[0].contentType: must be {CARD}")
    if "contentUrl" not in att or att["contentUrl"] is not None:
        problems.append("attachments[0].contentUrl: must be null")
    card = att.get("content") or {}
    if card.get("type") != "AdaptiveCard":
        problems.append("content.type: must be AdaptiveCard")
    if not str(card.get("$schema", "")).startswith("http://adaptivecards.io/schemas/"):
        problems.append("content.$schema: missing")
    if card.get("version") not in TEAMS_VERSIONS:
        problems.append(f"content.version: Teams renders {sorted(TEAMS_VERSIONS)}")
    for element in _walk(card.get("body")):
        if element.get("type") == "TextBlock" and element.get("wrap") is not True:
            problems.append("a TextBlock without wrap: true is cut to one line")
    for action in card.get("actions") or []:
        if action.get("type") != "Action.OpenUrl" or not str(action.get("url", "")).startswith(
            ("https://", "http://")
        ):
            problems.append("actions: Workflows cards can only open URLs (Action.OpenUrl)")
    return problems


def chat(payload: Any) -> list[str]:
    """A Slack-compatible incoming-webhook payload (Mattermost, Rocket.Chat)."""
    if not isinstance(payload, dict):
        return ["the body must be a JSON object"]
    if not (payload.get("text") or payload.get("attachments")):
        return ["text or attachments is required"]
    problems = []
    for i, att in enumerate(payload.get("attachments") or []):
        for j, field in enumerate(att.get("fields") or []):
            if not isinstance(field.get("title"), str) or not isinstance(field.get("value"), str):
                problems.append(f"attachments[{i}].fields[{j}]: title and value are text")
    return problems


def matrix(content: Any) -> list[str]:
    """An `m.room.message` content."""
    if not isinstance(content, dict):
        return ["the content must be a JSON object"]
    problems = []
    if content.get("msgtype") not in ("m.text", "m.notice"):
        problems.append("msgtype: m.text or m.notice")
    if not isinstance(content.get("body"), str) or not content["body"]:
        problems.append("body: required text")
    if "formatted_body" in content and content.get("format") != "org.matrix.custom.html":
        problems.append("format: org.matrix.custom.html with a formatted_body")
    return problems


def webhook(headers: dict[str, str], body: bytes, secret: str) -> list[str]:
    """A Standard Webhooks request: its signature, and a CloudEvent or a CAP alert."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        Webhook(secret).verify(body, lowered)
    except WebhookVerificationError as exc:
        return [f"signature: {exc}"]
    except ValueError:
        pass  # verified; the library then reads the body as JSON, and a CAP alert is XML
    ctype = lowered.get("content-type", "")
    if ctype.startswith("application/cap+xml"):
        return [] if b"urn:oasis:names:tc:emergency:cap:1.2" in body else ["not a CAP 1.2 alert"]
    if not ctype.startswith("application/cloudevents+json"):
        return [f"content-type: {ctype!r} is neither a CloudEvent nor CAP"]
    try:
        event = from_structured_event(HTTPMessage(headers={"content-type": ctype}, body=body))
    except Exception as exc:  # the library's own errors: what a receiver would refuse
        return [f"CloudEvent: {exc}"]
    problems = []
    if event.get_attributes().get("specversion") != "1.0":
        problems.append("specversion: 1.0")
    if not event.get_attributes().get("id"):
        problems.append("id: required")
    return problems


def loads(body: bytes) -> Any:
    """JSON, or None."""
    try:
        return json.loads(body)
    except ValueError:
        return None
