"""Sign-in links: how often one may be sent, and that each works once."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from concord.web.links import LOGIN_MAX_AGE


class SignInGuard:
    """At most `limit` sign-in links per person per `window` seconds (so nobody can flood
    a liaison's inbox through the sign-in form), and each link's nonce accepted once.

    Per worker process: behind a load balancer with several workers, a link could be
    used once on each within its 15 minutes; the README says so.
    """

    def __init__(
        self,
        limit: int = 3,
        window: float = LOGIN_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._used: dict[str, float] = {}

    def may_send(self, person: str) -> bool:
        """Record a link for `person` if the limit allows it; False when it does not."""
        now = self._clock()
        recent = self._sent.setdefault(person, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True

    def used(self, nonce: str) -> bool:
        """Whether `nonce` was used already (nothing recorded)."""
        return nonce in self._used

    def use(self, nonce: str) -> bool:
        """True the first time `nonce` is used; False after that."""
        now = self._clock()
        # Forget nonces older than a link can live: they are refused as expired anyway.
        for old in [n for n, at in self._used.items() if at <= now - LOGIN_MAX_AGE]:
            del self._used[old]
        if nonce in self._used:
            return False
        self._used[nonce] = now
        return True
