"""The `concord` command.

A mistake of the person running it (a bad setting, a missing file, a broker that does
not answer) is one line on stderr, `error: ...` with what to do, and exit code 2;
validation failures (playbooks, signals) exit 1 with their `file:line:col` lines;
`--debug` shows the traceback instead."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from concord.cli.io import console, err, fail, settings, stop_up
from concord.cli.partners import register as partner_commands
from concord.privacy.commands import register as privacy_commands

app = typer.Typer(
    help="Concord: inter-agency conflict-response coordination.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # `main` turns errors into one line
)
playbooks_app = typer.Typer(help="Author and check playbooks.", no_args_is_help=True)
directory_app = typer.Typer(help="Check the agency directory.", no_args_is_help=True)
signal_app = typer.Typer(help="Send signals.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
deadletter_app = typer.Typer(help="Inspect the dead-letter topic.", no_args_is_help=True)
indicators_app = typer.Typer(help="Export the common indicators.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(signal_app, name="signal")
app.add_typer(token_app, name="token")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(directory_app, name="directory")
app.add_typer(indicators_app, name="indicators")


ROLES = ("producer", "coordinator", "panel", "liaison", "operator")


_settings = settings
privacy_commands(app)
partner_commands(app)


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="show the traceback of an error (or CONCORD_DEBUG=1)")
    ] = False,
) -> None:
    """Concord: inter-agency conflict-response coordination."""


def _run_worker(concord: Any, loglevel: str) -> None:
    """Run the Faust worker until Ctrl-C / SIGTERM."""
    import faust

    from concord.streams.topics import ensure_topics

    settings = concord.settings
    created = ensure_topics(
        settings.bootstrap_servers(),
        settings.partitions,
        settings.replication,
        settings.raw_retention_hours,
    )
    if created:
        logging.getLogger(__name__).info("created topics %s", created)
    worker = faust.Worker(concord.app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    # Faust's startup spinner puts the root logger at DEBUG (to show debug lines in the
    # spinner): every debug call of aiokafka then builds a record, ~20 % of a busy
    # worker's CPU. Concord has no spinner.
    worker.spinner = None
    with contextlib.suppress(SystemExit):
        worker.execute_from_commandline()


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="also play a scripted scenario")] = False,
) -> None:
    """The whole stack on one machine: broker, worker, web, and local stand-ins for email,
    Slack, Teams, Matrix, Mattermost, Rocket.Chat and webhooks (the outbox)."""
    from concord.cli.local import archive, broker, carriers, partitioned
    from concord.embedded.outbox import Outbox
    from concord.worker.app import create_app
    from concord.worker.observer import RichObserver

    settings = _settings()
    if demo:
        # The scenario plays hours in seconds: the panel hears of the rumour that joined
        # the assault's review at once, as it would hours later (docs/panel.md).
        settings = settings.with_(panel_amend_interval_seconds=0)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stops: list[Any] = []
    outbox = Outbox()
    try:
        if not settings.broker:
            settings, bootstrap = broker(settings, stops)
            if settings.archive:
                settings = archive(settings, bootstrap, demo, stops)
            else:
                settings = partitioned(settings, None)
                console.print("[bold]archive[/]  off: memory only (CONCORD_ARCHIVE=false)")
        else:
            console.print(f"[bold]broker[/]   {settings.broker}")
        settings = carriers(settings, outbox, stops)
        base = f"http://{settings.web_host}:{settings.web_port}"
        console.print(f"[bold]web[/]      {base}  (outbox: {base}/outbox, health: {base}/healthz)")
        concord = create_app(settings, outbox=outbox, observer=RichObserver(console))
        concord.watchdog.before_exit.append(lambda why: stop_up(why, stops))
        if demo:
            from concord.cli import demo as demo_mod

            demo_mod.register(concord.app, concord.flow, concord.readmodel, console, base)
        _run_worker(concord, settings.log_level if "CONCORD_LOG_LEVEL" in os.environ else "warning")
    finally:
        for stop in reversed(stops):
            stop()


@app.command()
def worker(
    inbound: Annotated[
        bool, typer.Option("--inbound", help="also take replies to task emails by SMTP")
    ] = False,
) -> None:
    """One worker against CONCORD_BROKER (production: run N of them)."""
    from concord.privacy.keys import ensure_keys
    from concord.streams.topics import wait_for_broker
    from concord.worker.app import create_app

    settings = _settings()
    if not settings.resolved_broker():
        fail("CONCORD_BROKER is not set (and no `concord up` runs here): set it")
    if inbound and not settings.inbound_domain:
        fail("--inbound needs CONCORD_INBOUND_DOMAIN (the domain whose MX points here)")
    if inbound:
        settings = settings.with_(inbound_port=settings.inbound_port or 2525)
    say = logging.getLogger("concord.worker").warning
    wait_for_broker(settings.bootstrap_servers(), settings.broker_wait_seconds, say)
    settings = ensure_keys(settings, warn=True)
    _run_worker(create_app(settings), settings.log_level)


@playbooks_app.command("validate")
def playbooks_validate(paths: Annotated[list[Path] | None, typer.Argument()] = None) -> None:
    """Check playbooks; print `file:line:col: message` for each problem; exit 1 if any."""
    from concord.config.directory import DirectoryError, load_directory
    from concord.dryrun.examples import check_playbooks

    settings = _settings()
    for path in paths or []:
        if not path.exists():
            fail(f"no such file or directory: {path}")
    try:
        directory = load_directory(settings.directory)
    except DirectoryError as exc:
        for p in exc.problems:
            print(p)
        raise typer.Exit(1) from exc
    result = check_playbooks(paths or [settings.playbooks], directory)
    for p in sorted(result.problems + result.warnings, key=lambda p: (p.file, p.line, p.col)):
        print(p)
    examples = sum(len(pb.examples) for pb in result.playbooks)
    if result.problems:
        err.print(f"{len(result.problems)} problem(s)")
        raise typer.Exit(1)
    warned = f", {len(result.warnings)} warning(s)" if result.warnings else ""
    console.print(f"ok: {len(result.playbooks)} playbook(s), {examples} example(s) passed{warned}")


@playbooks_app.command("schema")
def playbooks_schema() -> None:
    """Print the JSON Schema of the playbook format."""
    from concord.playbooks.schema import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@directory_app.command("validate")
def directory_validate(path: Annotated[Path | None, typer.Argument()] = None) -> None:
    """Check the directory (default CONCORD_DIRECTORY); `file:line:col: message`; exit 1."""
    from concord.config.directory import DirectoryError, load_directory

    target = path or _settings().directory
    try:
        directory = load_directory(target)
    except DirectoryError as exc:
        for problem in exc.problems:
            print(problem)
        err.print(f"{len(exc.problems)} problem(s)")
        raise typer.Exit(1) from None
    console.print(
        f"ok: {len(directory.areas)} area(s), {len(directory.agencies)} agency(ies), "
        f"{len(directory.panel.members)} panel member(s)"
    )


@directory_app.command("schema")
def directory_schema() -> None:
    """Print the JSON Schema of the directory format."""
    from concord.config.directory import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@playbooks_app.command("test")
def playbooks_test(
    signals: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON lines")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Dry run: which playbooks match the signals and which tasks would go to whom."""
    from concord.dryrun.report import dry_run, print_report

    settings = _settings()
    report = dry_run(settings, signals)
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report, console)
    if report["refused"]:
        raise typer.Exit(1)


@signal_app.command("send")
def signal_send(
    file: Annotated[str, typer.Argument(help="JSON lines file, or - for stdin")],
    cap: Annotated[bool, typer.Option("--cap", help="FILE is a CAP 1.2 alert (XML)")] = False,
) -> None:
    """Produce JSON signals (one per line), or a CAP 1.2 alert, to the broker."""
    from concord.cli.kafka import send_signals

    settings = _settings()
    if cap:
        from concord.cli.capsend import send_cap_file

        send_cap_file(settings, file)
        return
    stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
    try:
        done = send_signals(settings, stream, file)
    finally:
        if stream is not sys.stdin:
            stream.close()
    for line in done.problems:
        print(line)
    refused = (
        f", refused {done.refused_lines} line(s) ({len(done.problems)} problem(s))"
        if done.refused_lines
        else ""
    )
    console.print(f"sent {done.sent} signal(s){refused}")
    if done.refused_lines:
        raise typer.Exit(1)


@token_app.command("create")
def token_create(
    name: str,
    role: Annotated[str, typer.Option(help="/".join(ROLES))],
    agency: Annotated[str | None, typer.Option(help="the liaison's agency")] = None,
) -> None:
    """Create an API token; it is printed once and stored hashed.

    A `panel` token is named after the panel member (directory id) whose votes it casts.
    """
    from concord.cli.kafka import create_token

    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    settings = _settings()
    from concord.access.tokens import token_refusal
    from concord.config.directory import load_directory

    refusal = token_refusal(load_directory(settings.directory), name, role, agency)
    if refusal is not None:
        fail(refusal)
    try:
        token = create_token(settings, name, role, agency)
    except ValueError as exc:
        fail(str(exc))
    print(token)


@indicators_app.command("export")
def indicators_export(
    odihr: Annotated[bool, typer.Option("--odihr", help="in OSCE ODIHR's categories")] = False,
    year: Annotated[int | None, typer.Option(help="the year (default: this one)")] = None,
) -> None:
    """Print the year's incidents as CSV in OSCE ODIHR's categories (drills left out,
    counts `<5` and in bands of five), from the situations on the broker."""
    import csv

    from concord.cli.kafka import read_situations
    from concord.core import odihr as rules

    if not odihr:
        fail("say which export: --odihr (the page /indicators gives the others as CSV)")
    this_year = datetime.now(UTC).year
    chosen = this_year if year is None else year
    if not 2000 <= chosen <= this_year:
        fail(f"--year must be from 2000 to {this_year}")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerows([rules.HEADER, *rules.rows(read_situations(_settings()), chosen)])


@deadletter_app.command("show")
def deadletter_show(
    limit: Annotated[int, typer.Option(help="most records")] = 50,
    original: Annotated[bool, typer.Option(help="decrypt and print the original bytes")] = False,
) -> None:
    """List dead-lettered records with their reasons (and, on request, the original bytes)."""
    from concord.cli.kafka import read_deadletters
    from concord.common.text import one_line

    for letter_id, dead, raw in read_deadletters(_settings(), limit, original):
        where = f"{dead.stage} {dead.topic}"
        console.print(
            f"{letter_id} {dead.at:%Y-%m-%d %H:%M:%S} {where}: {one_line(dead.reason)} "
            f"({dead.original_size} B)",
            markup=False,
            highlight=False,
        )
        for e in dead.errors:
            console.print(f"   {e.get('loc')}: {one_line(str(e.get('msg')))}", markup=False)
        if raw is not None:
            print(raw.decode(errors="replace"))


@deadletter_app.command("replay")
def deadletter_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="dead letter ids (dl-P-O)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
    force: Annotated[bool, typer.Option(help="replay letters replayed before too")] = False,
) -> None:
    """Put dead letters back on their topics after a fix: the original bytes and key,
    once each (audited); the stage validates them again."""
    import getpass

    from rich.progress import Progress

    from concord.cli.kafka import replay

    if not ids and not all_:
        fail("name the dead letters to replay (dl-P-O ...), or --all")
    with Progress(console=err, transient=True) as bar:
        job = bar.add_task("replaying", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total)

        result = replay(
            _settings(), None if all_ else set(ids or []), getpass.getuser(), progress, force
        )
    for letter_id, why in sorted(result.skipped.items()):
        err.print(f"{letter_id}: not replayed: {why}")
    console.print(f"replayed {len(result.replayed)}, skipped {len(result.skipped)}")
    if ids and result.skipped and not result.replayed:
        raise typer.Exit(1)


def main() -> None:
    """Console script entry point: errors become one line (see the module)."""
    from concord.cli.explain import explain
    from concord.common import logsafe

    debug = "--debug" in sys.argv[1:] or os.environ.get("CONCORD_DEBUG") == "1"
    sys.argv = [a for a in sys.argv if a != "--debug"]  # allowed anywhere on the line
    logsafe.install()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:  # kafka-python logs each failed attempt; the error line says it once
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        if debug:
            raise
        err.print(f"error: {explain(exc)}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
