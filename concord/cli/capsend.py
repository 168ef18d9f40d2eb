"""`concord signal send --cap FILE`: a CAP 1.2 alert, checked, onto `concord.cap.in`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from concord.cli.io import console, fail
from concord.config.settings import Settings


def send_cap_file(settings: Settings, file: str) -> None:
    """`signal send --cap FILE`: the alert checked, then on `concord.cap.in`."""
    from concord.cli.kafka import send_cap

    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}")
    done = send_cap(settings, raw, file)
    if isinstance(done, list):  # the input's problems: one line each, exit 1
        print("\n".join(done))
        console.print(f"not sent: {len(done)} problem(s)")
        raise typer.Exit(1)
    console.print(
        f"sent CAP alert {done.identifier}: {len(done.signals)} signal(s), "
        f"{len(done.triage)} to triage, {len(done.cancels)} alert(s) cancelled"
    )
