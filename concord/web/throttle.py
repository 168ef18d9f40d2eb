"""Sign-in links: how often one may be sent, and that each works once; `Once`, the
"seen within a window" memory that single-use links and Slack's replay check share."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from concord.access.links import LOGIN_MAX_AGE


class Once:
    """Keys seen in the last `window` seconds: `first(key)` is True once per key.

    Older keys are forgotten: what they guarded has expired by then (a sign-in link
    after 15 minutes, a Slack signature after 5).
    """

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._seen: dict[str, float] = {}

    def seen(self, key: str) -> bool:
        """Whether `key` was seen within the window (nothing recorded)."""
        at = self._seen.get(key)
        return at is not None and at > self._clock() - self.window

    def first(self, key: str) -> bool:
        """Record `key`; True when it was not seen within the window."""
        now = self._clock()
        for old in [k for k, at in self._seen.items() if at <= now - self.window]:
            del self._seen[old]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class SignInGuard:
    """At most `limit` sign-in links per person per `window` seconds (so nobody can flood
    a liaison's inbox through the sign-in form), and each link's nonce accepted once.

    Per worker process: behind a load balancer with several workers, a link could be
    used once on each within its 15 minutes; docs/api.md says so.
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
        self._used = Once(LOGIN_MAX_AGE, clock)

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
        return self._used.seen(nonce)

    def use(self, nonce: str) -> bool:
        """True the first time `nonce` is used; False after that."""
        return self._used.first(nonce)


class RateLimit:
    """At most `limit` requests per key (a client's address) per `window` seconds.

    `wait(key)` records a request and returns None, or the seconds until one is allowed
    again (for `Retry-After`) without recording it. Per worker process.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float | None:
        """Seconds to wait before `key` may act again, or None when it may now."""
        now = self._clock()
        if len(self._seen) > 10_000:  # forget idle clients, so memory stays bounded
            for idle in [k for k, q in self._seen.items() if not q or q[-1] <= now - self.window]:
                del self._seen[idle]
        recent = self._seen.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return max(1.0, recent[0] + self.window - now)
        recent.append(now)
        return None
