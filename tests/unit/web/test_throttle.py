"""Sign-in links: a limit per person and window, and single use."""

from __future__ import annotations

from concord.access.links import LOGIN_MAX_AGE
from concord.web.throttle import SignInGuard
from tests.unit.factories import Clock


def test_three_links_per_person_per_window_then_refused_until_the_oldest_ages_out() -> None:
    clock = Clock()
    guard = SignInGuard(limit=3, window=900, clock=clock)
    assert [guard.may_send("ana") for _ in range(4)] == [True, True, True, False]
    assert guard.may_send("koen")  # per person
    clock.now += 899
    assert not guard.may_send("ana")
    clock.now += 1
    assert [guard.may_send("ana") for _ in range(4)] == [True, True, True, False]


def test_a_nonce_works_once_and_is_forgotten_once_expired() -> None:
    clock = Clock()
    guard = SignInGuard(clock=clock)
    assert guard.use("n1")
    assert not guard.use("n1")
    assert guard.use("n2")
    clock.now += LOGIN_MAX_AGE + 1
    guard.use("n3")
    assert guard._used._seen.keys() == {"n3"}  # old nonces pruned: memory stays bounded


def test_rate_limit_counts_per_client_and_says_when_to_come_back() -> None:
    from concord.web.throttle import RateLimit

    now = [1000.0]
    limit = RateLimit(2, 60, clock=lambda: now[0])
    assert limit.wait("a") is None
    assert limit.wait("a") is None
    wait = limit.wait("a")
    assert wait is not None
    assert 59 <= wait <= 60
    assert limit.wait("b") is None  # another client is not held back
    now[0] += 61
    assert limit.wait("a") is None
