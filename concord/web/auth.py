"""API tokens: `Authorization: Bearer TOKEN`, stored hashed on `concord.tokens`."""

from __future__ import annotations

import hashlib
import secrets

from concord.streams.models import ApiToken
from concord.web.readmodel import ReadModel

TOKEN_PREFIX = "cnc_"


def new_token() -> str:
    """A new random API token (shown once, stored only as its hash)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256: tokens have 256 bits of entropy, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(view: ReadModel, header: str | None) -> ApiToken | None:
    """The token record for an Authorization header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    record = view.tokens.get(token_hash(header.removeprefix("Bearer ").strip()))
    if record is None or record.revoked:
        return None
    return record
