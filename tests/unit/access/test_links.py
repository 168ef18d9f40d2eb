"""Signed links (concord.access.links): dated by the signer's clock."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from concord.access.links import LinkError, Signer, TaskLink


def test_a_token_dated_past_its_age_by_the_signers_clock_is_expired() -> None:
    now = 1_800_000_000.0
    old = Signer(SecretStr("k" * 32), clock=lambda: now - 15 * 24 * 3600)
    token = old.task_link(TaskLink("t", "p", "ack"))
    current = Signer(SecretStr("k" * 32), clock=lambda: now)
    with pytest.raises(LinkError) as caught:
        current.read_task_link(token)
    assert caught.value.expired
    assert old.read_task_link(token) == TaskLink("t", "p", "ack")  # fresh by its own clock
