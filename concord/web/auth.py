"""Who is asking: API tokens (`Authorization: Bearer TOKEN`, checked against
`concord.tokens`) and the person a page or a link acts for."""

from __future__ import annotations

from typing import NamedTuple

from faust.web import Request
from faust.web.exceptions import NotAuthenticated, PermissionDenied

from concord.access.links import Session
from concord.access.tokens import token_hash
from concord.streams.access import ApiToken
from concord.web.readmodel import ReadModel


class Actor(NamedTuple):
    """Someone acting: a person (or a token's name), their role, their agency if any."""

    person: str
    role: str
    agency: str | None = None

    @classmethod
    def of_token(cls, token: ApiToken) -> Actor:
        """The actor a token acts as."""
        return cls(token.name, token.role, token.agency)

    @classmethod
    def of_session(cls, session: Session) -> Actor:
        """The actor a session acts as."""
        return cls(session.person, session.role, session.agency)


def authenticate(readmodel: ReadModel, header: str | None) -> ApiToken | None:
    """The token record for an Authorization header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    record = readmodel.tokens.get(token_hash(header.removeprefix("Bearer ").strip()))
    if record is None or record.revoked:
        return None
    return record


def require(readmodel: ReadModel, request: Request, roles: set[str]) -> ApiToken:
    """The caller's token; raises (401, 403) otherwise, so no check can fall through."""
    token = authenticate(readmodel, request.headers.get("Authorization"))
    if token is None:
        raise NotAuthenticated("a valid API token is required (Authorization: Bearer ...)")
    if token.role not in roles:
        raise PermissionDenied(f"role {token.role!r} may not do this")
    return token
