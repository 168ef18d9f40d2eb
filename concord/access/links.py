"""Signed tokens: email vote links, one-time sign-in links and session cookies.

itsdangerous signs with `CONCORD_SECRET_KEY` and a different salt per purpose, so a
token made for one purpose is refused for any other; each carries its issue time and
is refused after its `max_age`. A vote link names one decision on one analysis version
for one member: it can do nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr

VOTE_MAX_AGE = 7 * 24 * 3600
TASK_MAX_AGE = 14 * 24 * 3600
LOGIN_MAX_AGE = 15 * 60
SESSION_MAX_AGE = 12 * 3600
#: A referral link lives this many days: the body has time to take the report up.
REFERRAL_DAYS = 30


class LinkError(Exception):
    """A token that cannot be used; `expired` tells the page what to say."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class VoteLink:
    """What a vote link may do: one decision on one analysis version, for one member."""

    situation_id: str
    member: str
    version: int
    decision: str


@dataclass(frozen=True)
class TaskLink:
    """What a task link may do: one action on one task, for one liaison."""

    task_id: str
    person: str
    action: str


@dataclass(frozen=True)
class Session:
    """A signed-in person: who, in which role and agency, and the session's id."""

    person: str
    role: str
    agency: str | None = None
    id: str = ""  # random: lets a sign-out revoke this session on every worker


class Signer:
    """Make and check the signed tokens of every purpose."""

    def __init__(self, secret: SecretStr, clock: Callable[[], float] = time.time) -> None:
        key = secret.get_secret_value()
        self._key = key.encode()

        class Clocked(TimestampSigner):
            """Tokens dated, and their age measured, by `clock` (a test dates them back)."""

            def get_timestamp(self) -> int:
                return int(clock())

        def timed(salt: str) -> URLSafeTimedSerializer:
            return URLSafeTimedSerializer(key, salt=salt, signer=Clocked)

        self._vote = timed("concord.vote")
        self._login = timed("concord.login")
        self._session = timed("concord.session")
        self._form = timed("concord.form")
        self._task = timed("concord.task")
        self._referral = timed("concord.referral")

    def __repr__(self) -> str:
        return "Signer(<hidden>)"

    @staticmethod
    def _load(s: URLSafeTimedSerializer, token: str, max_age: int) -> Any:
        try:
            return s.loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise LinkError("this link has expired", expired=True) from exc
        except BadSignature as exc:
            raise LinkError("this link is not valid") from exc

    def vote_link(self, link: VoteLink) -> str:
        """A signed token for `link` (a vote link's `t/` token)."""
        return str(self._vote.dumps([link.situation_id, link.member, link.version, link.decision]))

    def read_vote_link(self, token: str) -> VoteLink:
        """The vote link a token carries; raises `LinkError` when forged, stale or of another
        purpose."""
        s, m, v, d = self._load(self._vote, token, VOTE_MAX_AGE)
        return VoteLink(str(s), str(m), int(v), str(d))

    def task_link(self, link: TaskLink) -> str:
        """A signed token for `link` (a task link's `t/` token)."""
        return str(self._task.dumps([link.task_id, link.person, link.action]))

    def read_task_link(self, token: str) -> TaskLink:
        """The task link a token carries; raises `LinkError` when forged, stale or of another
        purpose."""
        task_id, person, action = self._load(self._task, token, TASK_MAX_AGE)
        return TaskLink(str(task_id), str(person), str(action))

    def read_any(self, token: str) -> VoteLink | TaskLink:
        """A vote link or a task action link (the `/t/{token}` page serves both)."""
        try:
            return self.read_vote_link(token)
        except LinkError as exc:
            if exc.expired:
                raise
        return self.read_task_link(token)

    @property
    def reply_key(self) -> bytes:
        """The key of task reply addresses (`concord.core.mailin`), derived: a reply
        address says nothing about the installation's secret."""
        return hmac.new(self._key, b"concord reply address", hashlib.sha256).digest()

    @property
    def receipt_key(self) -> bytes:
        """The key of receipts that a report sent again gets again
        (`concord.core.reports.same_receipt`), derived like `reply_key`."""
        return hmac.new(self._key, b"concord report receipt", hashlib.sha256).digest()

    def referral_link(self, signal_id: str, body: str) -> str:
        """A signed token for a competent body's view of a referred report."""
        return str(self._referral.dumps([signal_id, body]))

    def read_referral_link(self, token: str) -> tuple[str, str]:
        """(signal id, body) of a referral link; raises `LinkError` otherwise."""
        signal_id, body = self._load(self._referral, token, REFERRAL_DAYS * 86400)
        return str(signal_id), str(body)

    def login_link(self, person: str) -> tuple[str, str]:
        """A sign-in token and its nonce (the nonce makes it single-use)."""
        nonce = secrets.token_urlsafe(12)
        return str(self._login.dumps([person, nonce])), nonce

    def read_login_link(self, token: str) -> tuple[str, str]:
        """(person, nonce) of a one-time sign-in link; raises `LinkError` otherwise."""
        person, nonce = self._load(self._login, token, LOGIN_MAX_AGE)
        return str(person), str(nonce)

    def session(self, session: Session) -> str:
        """The session cookie's signed value."""
        sid = session.id or secrets.token_urlsafe(16)
        return str(self._session.dumps([session.person, session.role, session.agency, sid]))

    def read_session(self, cookie: str) -> Session:
        """The session a cookie carries; raises `LinkError` when forged or expired."""
        try:
            person, role, agency, sid = self._load(self._session, cookie, SESSION_MAX_AGE)
        except (TypeError, ValueError) as exc:  # a cookie of an older release
            raise LinkError("this session is not valid") from exc
        return Session(str(person), str(role), agency, str(sid))

    def form_token(self, person: str, purpose: str) -> str:
        """A CSRF token for a form posted by `person` (checked with `check_form`)."""
        return str(self._form.dumps([person, purpose]))

    def check_form(self, token: str, person: str, purpose: str) -> bool:
        """Whether a form's anti-forgery token was made for this person and purpose."""
        try:
            got = self._form.loads(token, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return False
        return bool(got == [person, purpose])
