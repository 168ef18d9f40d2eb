"""A mistake at the CLI is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from concord.embedded.net import free_port
from tests.unit.factories import ROOT


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`concord ARGS` in `cwd`, with no broker in the environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "concord.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def here(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "directory.yml", tmp_path / "directory.yml")
    return tmp_path


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2, result.stderr.decode()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stderr.decode()
    return lines[0]


def test_no_broker_at_all(here: Path) -> None:
    line = one_error_line(run(here, "token", "create", "ops", "--role", "operator"))
    assert "no broker: set CONCORD_BROKER" in line
    line = one_error_line(run(here, "worker"))
    assert "CONCORD_BROKER is not set" in line


def test_a_stale_broker_file_fails_fast_and_says_so(here: Path) -> None:
    # A start of the CLI that fails before any broker is asked: what starting costs on
    # this machine right now (seconds when a whole suite shares it), so the bound is on
    # the wait for the broker, not on the load (the worker imports about twice as much).
    started = time.monotonic()
    one_error_line(run(here, "token", "create", "ops", "--role", "operator"))
    start_cost = time.monotonic() - started
    (here / ".concord").mkdir()
    (here / ".concord" / "broker").write_text(f"127.0.0.1:{free_port()}\n")
    for args in (
        ["token", "create", "ops", "--role", "operator"],
        ["worker"],
        ["deadletter", "show"],
    ):
        started = time.monotonic()
        line = one_error_line(run(here, *args, CONCORD_BROKER_WAIT_SECONDS="0"))
        # not kafka-python's ~40 s of retries
        assert time.monotonic() - started < 2 * start_cost + 10
        assert "no Kafka broker answers at 127.0.0.1:" in line
        assert "stale .concord/broker file" in line


def test_a_missing_file_or_directory_or_a_bad_setting(here: Path, tmp_path: Path) -> None:
    line = one_error_line(run(here, "signal", "send", str(tmp_path / "nope.jsonl")))
    assert line == f"error: no such file: {tmp_path / 'nope.jsonl'}"
    (here / "directory.yml").unlink()
    line = one_error_line(run(here, "token", "create", "ops", "--role", "operator"))
    assert "the directory does not load" in line
    assert "directory.yml:1:1" in line
    line = one_error_line(run(here, "deadletter", "show", CONCORD_PARTITIONS="many"))
    assert line.startswith("error: setting partitions:")
    assert "CONCORD_PARTITIONS" in line


def test_debug_shows_the_traceback(here: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    result = run(here, "--debug", "worker", CONCORD_BROKER=nowhere, CONCORD_BROKER_WAIT_SECONDS="0")
    assert result.returncode != 0
    assert "Traceback" in result.stderr.decode()
    assert "ConfigError" in result.stderr.decode()
    result = run(
        here, "worker", CONCORD_BROKER=nowhere, CONCORD_DEBUG="1", CONCORD_BROKER_WAIT_SECONDS="0"
    )
    assert "Traceback" in result.stderr.decode()


def test_validation_problems_still_exit_1(here: Path) -> None:
    book = here / "bad.yml"
    book.write_text("name: x\nwhen: [\n")
    result = run(here, "playbooks", "validate", str(book))
    assert result.returncode == 1
    assert f"{book}:" in result.stdout.decode() + result.stderr.decode()
