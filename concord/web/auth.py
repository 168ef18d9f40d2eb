"""API tokens on requests: `Authorization: Bearer TOKEN`, checked against `concord.tokens`."""

from __future__ import annotations

from concord.streams.access import ApiToken
from concord.tokens import token_hash
from concord.web.readmodel import ReadModel


def authenticate(view: ReadModel, header: str | None) -> ApiToken | None:
    """The token record for an Authorization header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    record = view.tokens.get(token_hash(header.removeprefix("Bearer ").strip()))
    if record is None or record.revoked:
        return None
    return record
