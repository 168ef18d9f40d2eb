"""API tokens: made once, shown once, stored only as their hash; who may hold one."""

from __future__ import annotations

import hashlib
import secrets

from concord.config.directory import Directory

TOKEN_PREFIX = "cnc_"


def new_token() -> str:
    """A new random API token (shown once, stored only as its hash)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256: tokens have 256 bits of entropy, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_refusal(directory: Directory, name: str, role: str, agency: str | None) -> str | None:
    """Why a token cannot be made for `name` in `role`, or None.

    A token acts as someone: a `panel` token casts the votes of the member it is named
    after, a `liaison` token acts on its agency's tasks and sees persons at that agency's
    sharing level, so both must name someone the directory knows in that place.
    """
    if role == "liaison":
        if not agency:
            return "a liaison token needs --agency"
        if directory.agency(agency) is None:
            return f"unknown agency {agency!r}"
        found = directory.liaison(name)
        if found is None or found[0].id != agency:
            ids = ", ".join(x.id for x in directory.agency(agency).liaisons)  # type: ignore[union-attr]
            return f"a liaison token is named after a liaison of {agency}: one of {ids}"
    elif agency is not None:
        return "--agency is only for liaison tokens"
    if role == "panel" and directory.panel_member(name) is None:
        members = ", ".join(m.id for m in directory.panel.members)
        return f"a panel token is named after its member: one of {members}"
    return None
