"""What every `concord` command shares: its consoles, its settings, `fail`, and how
`concord up` stops whole."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import NoReturn

import typer
from rich.console import Console

from concord.config.settings import Settings

console = Console()
# Errors: one line each, never wrapped or read as markup (they may quote user input).
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def settings() -> Settings:
    """The settings of this run (environment, `concord.toml`); a bad one: one line, exit 2."""
    return Settings()


def fail(message: str) -> NoReturn:
    """A mistake the person can fix: one line, exit code 2."""
    err.print(f"error: {message}")
    raise typer.Exit(2)


def stop_up(why: str, stops: list[Callable[[], object]]) -> None:
    """`concord up` stops whole when its worker must exit: broker, archive, captures and
    the broker file, with a line that says why and what to do."""
    # The worker's clients would log every failed call to the broker being stopped.
    logging.disable(logging.ERROR)
    for stop in reversed(stops):
        with contextlib.suppress(Exception):
            stop()
    stops.clear()
    err.print(
        f"concord up stopped: {why}. Nothing is lost (the archive keeps every record): "
        "run `concord up` again."
    )
