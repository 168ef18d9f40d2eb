"""Waiting for a broker (concord.streams.topics.wait_for_broker): logged, backing off."""

from __future__ import annotations

import socket

import pytest

from concord.config.errors import ConfigError
from concord.embedded.net import free_port
from concord.streams.topics import wait_for_broker


def test_a_missing_broker_is_waited_for_with_backoff_then_refused() -> None:
    said: list[str] = []
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(ConfigError, match="no Kafka broker answers"):
        wait_for_broker([f"127.0.0.1:{free_port()}"], 40, said.append, sleep, lambda: now[0])
    assert slept == [1, 2, 4, 8, 15, 10]  # no busy loop, and not past the 40 s
    assert len(said) == len(slept)
    assert "trying again in 1 s" in said[0]


def test_a_broker_that_comes_up_is_used() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    slept: list[float] = []

    def come_up(seconds: float) -> None:
        slept.append(seconds)
        server.listen()  # the broker starts while the worker waits

    try:
        wait_for_broker([f"127.0.0.1:{port}"], 60, lambda _: None, come_up)
    finally:
        server.close()
    assert slept == [1.0]
