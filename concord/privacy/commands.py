"""`concord erase`, `concord retention`, `concord persons` and `concord keys`: the
operator's data-protection commands (docs/privacy.md). Each is audited."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from concord.cli.io import console, err, fail, settings

retention_app = typer.Typer(help="Erase personal data past its retention.", no_args_is_help=True)
persons_app = typer.Typer(help="Access requests: who is named where.", no_args_is_help=True)
keys_app = typer.Typer(help="The master key of personal data.", no_args_is_help=True)


def erase(
    ids: Annotated[
        list[str],
        typer.Argument(
            help="signal ids (as on the board), or dead letter ids (dl-P-O)", metavar="SIGNAL_ID"
        ),
    ],
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "",
) -> None:
    """Erase the personal data of signals for good: their data keys are tombstoned, so
    every sealed copy (topics, changelogs, archive, dead letters) becomes unreadable."""
    from concord.privacy.operations import erase as run

    if not reason.strip():
        fail("say why with --reason (it is kept in the audit log)")
    result = run(settings(), ids, reason.strip(), getpass.getuser())
    for line in result.refused:
        err.print(f"{line}")
    for subject in result.erased:
        console.print(f"erased {subject}", markup=False, highlight=False)
    if result.refused and not result.erased:
        raise typer.Exit(1)


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list, erase nothing")] = False,
    as_of: Annotated[
        str | None, typer.Option(help="as if it were this day (YYYY-MM-DD): what goes by then")
    ] = None,
) -> None:
    """Erase what the retention policy says must go now (CONCORD_RETENTION_DAYS after its
    situation closed, CONCORD_UNATTACHED_RETENTION_DAYS if never in one). Workers do
    this by themselves every CONCORD_RETENTION_CHECK_SECONDS."""
    from concord.core.erasure import RETENTION_ACTOR
    from concord.privacy.operations import retention_due, tombstone

    current = settings()
    items = retention_due(current, _day(as_of) if as_of else None)
    for item in items:
        console.print(f"{item.subject}  {item.reason}", markup=False, highlight=False)
    if dry_run:
        console.print(f"{len(items)} would be erased (dry run: nothing erased)")
        return
    done = tombstone(current, items, f"{RETENTION_ACTOR} (by {getpass.getuser()})", "cli")
    console.print(f"erased {done}")


def _day(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        fail(f"--as-of {text!r} is not a date (YYYY-MM-DD)")


@persons_app.command("find")
def persons_find(
    contact: Annotated[str, typer.Option(help="an e-mail address or phone number")],
    reason: Annotated[str, typer.Option(help="why (e.g. an access request's number)")] = "",
) -> None:
    """List the signals whose persons name this contact (keyed-hash index, audited)."""
    from concord.privacy.operations import find

    if not contact.strip():
        fail("--contact is empty")
    if not reason.strip():
        fail("say why with --reason (it is kept in the audit log)")
    found = find(settings(), contact, getpass.getuser(), reason.strip())
    for f in found:
        where = f"situation {f.situation}" if f.situation else "in no situation"
        console.print(f"{f.subject}  {f.received:%Y-%m-%d %H:%M}  {where}", markup=False)
    console.print(f"{len(found)} signals name this contact")


@keys_app.command("new")
def keys_new() -> None:
    """Print a new master key (for CONCORD_DATA_KEY)."""
    from concord.privacy.keys import new_master_key

    print(new_master_key())


@keys_app.command("rotate")
def keys_rotate(
    new: Annotated[
        bool, typer.Option("--new", help="single machine: put a new key first in the key file")
    ] = False,
) -> None:
    """Re-wrap every data key under the first key of CONCORD_DATA_KEY (`NEW,OLD`), with
    the workers running. Run it again until it re-wraps 0, then drop OLD."""
    from concord.privacy.keys import RELOAD_SECONDS, new_master_key, parse_ring, ring_file
    from concord.privacy.operations import rotate

    current = settings()
    if new:
        if current.data_key is not None:
            fail("--new writes the key file; CONCORD_DATA_KEY is set: put the new key first there")
        path = ring_file(current)
        if not path.exists():
            fail(f"no key file at {path}")
        ring = parse_ring(path.read_text())
        path.write_text(",".join([new_master_key(), *ring]))
        console.print(f"new key first in {path}; waiting for the workers to take it up")
        import time

        time.sleep(RELOAD_SECONDS * 2)  # workers look at the file every RELOAD_SECONDS
    result = rotate(current, getpass.getuser())
    for key_id, why in sorted(result.failed.items()):
        err.print(f"{key_id}: not re-wrapped: {why}")
    console.print(
        f"re-wrapped {result.rewrapped}, already under {result.primary}: {result.current}"
    )
    if result.failed:
        raise typer.Exit(1)


@keys_app.command("retire")
def keys_retire() -> None:
    """Single machine: drop every key but the first from the key file, once no data key
    is wrapped by them any more (after `keys rotate`)."""
    from concord.cli.kafka import read_keys
    from concord.privacy.keys import fingerprint, parse_ring, ring_file

    current = settings()
    if current.data_key is not None:
        fail("CONCORD_DATA_KEY is set: drop the old keys from it there")
    path = ring_file(current)
    ring = parse_ring(path.read_text()) if path.exists() else []
    if len(ring) < 2:
        fail(f"{path} holds one key: nothing to retire")
    left = sum(1 for k in read_keys(current).values() if k.kek != fingerprint(ring[0]))
    if left:
        fail(f"{left} data keys are still wrapped by an old key: run concord keys rotate")
    path.write_text(ring[0])
    console.print(f"retired {len(ring) - 1} old keys from {path}")


def register(app: typer.Typer) -> None:
    """Add these commands to `concord`."""
    app.command("erase")(erase)
    app.add_typer(retention_app, name="retention")
    app.add_typer(persons_app, name="persons")
    app.add_typer(keys_app, name="keys")
