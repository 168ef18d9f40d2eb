"""`concord up`'s local parts: the embedded broker, the archive, and the stand-ins for
every carrier that is not configured (what `/outbox` shows)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from concord.cli.io import console
from concord.config.settings import Settings

#: Partitions per topic under `concord up` unless `CONCORD_PARTITIONS` says otherwise.
#: Partitions share the work among workers, and `concord up` runs one; each partition
#: costs the embedded broker on every fetch of every consumer (the worker's, the read
#: model's, the archiver's): with 4, it took a third more CPU per signal, and 1.7 times
#: as much doing nothing (docs/performance.md).
UP_PARTITIONS = 1


def broker(settings: Settings, stops: list[Any]) -> tuple[Settings, str]:
    """Start the embedded broker; the settings that use it, and its bootstrap address."""
    from concord.embedded.broker import EmbeddedBroker

    embedded = EmbeddedBroker(log_file=settings.data_dir / "broker.log").start()
    stops.append(embedded.stop)
    settings.broker_file.write_text(embedded.url + "\n")
    stops.append(lambda: settings.broker_file.unlink(missing_ok=True))
    # Tansu quirk: a group's first join waits ~half the session timeout.
    settings = settings.with_(broker=embedded.url, store="memory://", session_timeout=6.0)
    console.print(f"[bold]broker[/]   embedded Tansu at {embedded.url} (memory only)")
    return settings, embedded.bootstrap


def archive(settings: Settings, bootstrap: str, demo: bool, stops: list[Any]) -> Settings:
    """Restore the single-machine archive into the fresh broker, then keep it (what stops
    it goes on `stops`; see `concord.embedded.archive`). The demo plays from nothing each
    time, in an archive of its own: the city's stays as it is.

    Returns the settings, with the partitions of the archived topics: a topic keeps the
    partitions it was created with (Kafka cannot take one away), and every table is
    partitioned like the topics."""
    from concord.embedded.archive import Archive
    from concord.embedded.archiver import ArchiverProcess, Source
    from concord.embedded.restore import restore
    from concord.streams.topics import ALL, KEYS, SIGNALS_IN

    path = settings.data_dir / ("demo-archive.sqlite3" if demo else "archive.sqlite3")
    if demo:
        for old in path.parent.glob(f"{path.name}*"):
            old.unlink()
    archive = Archive(path)
    try:
        kept = archived_partitions(archive.topics())
        restored = restore(archive, bootstrap)
    finally:
        archive.close()  # from here on the archiver's process writes it
    what = f"{restored} records restored from" if restored else "kept across restarts in"
    console.print(f"[bold]archive[/]  {what} {path}")
    compacted = {t.name for t in ALL if t.compacted}
    source = Source(
        bootstrap,
        (settings.app_id,),
        frozenset(compacted),
        shredded=frozenset({KEYS.name}),
        consumed=frozenset({SIGNALS_IN.name}),
    )
    archiver = ArchiverProcess(path, source).start()
    stops.append(archiver.stop)
    return partitioned(settings, kept)


def partitioned(settings: Settings, archived: int | None) -> Settings:
    """The settings with the partitions `concord up` runs with: an archive's (its topics
    keep theirs), else `CONCORD_PARTITIONS` when set, else `UP_PARTITIONS`."""
    asked = settings.partitions if "partitions" in settings.model_fields_set else None
    if archived is not None and asked is not None and asked != archived:
        console.print(
            f"[bold]archive[/]  its topics have {archived} partition(s): "
            f"CONCORD_PARTITIONS={asked} applies to a new archive only"
        )
    return settings.with_(partitions=archived or asked or UP_PARTITIONS)


def archived_partitions(topics: dict[str, tuple[int, bool]]) -> int | None:
    """The partitions of an archive's topics (`concord.signals`'s; None: a new archive)."""
    from concord.streams.topics import SIGNALS

    if SIGNALS.name in topics:
        return topics[SIGNALS.name][0]
    return max((n for n, _ in topics.values()), default=None)


#: The domain of reply addresses under `concord up` (mail sent there stays on this machine).
LOCAL_MAIL_DOMAIN = "in.concord.localhost"


def carriers(settings: Settings, outbox: Any, stops: list[Any]) -> Settings:
    """A local stand-in for each carrier the settings leave unset; the settings that
    point at them."""
    from concord.embedded.slack_api import SlackApiServer
    from concord.embedded.smtp import SmtpCapture
    from concord.embedded.standin import MATRIX_TOKEN, StandIn

    if not settings.smtp_host:
        smtp = SmtpCapture(outbox).start()
        stops.append(smtp.stop)
        settings = settings.with_(smtp_host=smtp.host, smtp_port=smtp.port)
        console.print(f"[bold]email[/]    local capture on {smtp.host}:{smtp.port}")
    if not settings.slack_token:
        slack = SlackApiServer(outbox).start()
        stops.append(slack.stop)
        settings = settings.with_(slack_token=SecretStr(slack.token), slack_api_url=slack.url)
        console.print(f"[bold]slack[/]    local outbox at {slack.url}")
    standin = StandIn(outbox).start()
    stops.append(standin.stop)
    settings = settings.with_(channel_standin_url=standin.url)
    if not (settings.matrix_homeserver and settings.matrix_token):
        token = SecretStr(MATRIX_TOKEN)
        settings = settings.with_(matrix_homeserver=standin.url, matrix_token=token)
    console.print(
        f"[bold]chat[/]     local stand-in at {standin.url} for Teams, Matrix, Mattermost, "
        "Rocket.Chat and webhooks whose address is not set"
    )
    return mail_in(settings)


def mail_in(settings: Settings) -> Settings:
    """The inbound SMTP server for replies to task emails, on a free local port (a domain
    of its own unless `CONCORD_INBOUND_DOMAIN` says)."""
    from concord.embedded.net import free_port

    domain = settings.inbound_domain or LOCAL_MAIL_DOMAIN
    port = settings.inbound_port or free_port(settings.inbound_host)
    settings = settings.with_(inbound_domain=domain, inbound_port=port)
    console.print(
        f"[bold]mail in[/]  {settings.inbound_host}:{port}: replies to task emails "
        f"(task+…@{domain})"
    )
    return settings
