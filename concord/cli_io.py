"""What every `concord` command shares: its consoles, its settings and `fail`."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from concord.settings import Settings

console = Console()
# Errors: one line each, never wrapped or read as markup (they may quote user input).
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def settings() -> Settings:
    return Settings()


def fail(message: str) -> NoReturn:
    """A mistake the person can fix: one line, exit code 2."""
    err.print(f"error: {message}")
    raise typer.Exit(2)
