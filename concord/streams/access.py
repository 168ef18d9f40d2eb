"""Access: API tokens (`concord.tokens`, hashed) and sign-in facts (`concord.sessions`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from concord.common.types import Strict, utcnow


class ApiToken(Strict):
    """An API token record (`concord.tokens`, compacted, keyed by the token's hash)."""

    hash: str
    name: str
    role: Literal["producer", "coordinator", "panel", "liaison", "operator"]
    agency: str | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    revoked: bool = False


class SessionMark(Strict):
    """A sign-in fact every worker must know (`concord.sessions`, compacted, keyed by id):
    a session that was signed out, or a sign-in link that was used."""

    kind: Literal["revoked", "link_used"]
    id: str = Field(description="the session id, or the sign-in link's nonce")
    person: str
    at: AwareDatetime = Field(default_factory=utcnow)
