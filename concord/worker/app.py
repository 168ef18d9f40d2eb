"""`create_app(settings)`: the only place where Concord is wired together.

Nothing is chosen at import time: the broker, the store, the notifiers, the directory
and the playbooks all come from the settings passed in. Each stage gets what it needs,
by name, here; this module is the only one that knows them all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import faust

from concord.access.links import Signer
from concord.agents import (
    capin,
    correlate,
    deliver,
    gate,
    intake,
    plan,
    publish,
    retention,
    track,
    watchdog,
)
from concord.agents.stage import every
from concord.common import logsafe
from concord.config.directory import Directory, load_directory
from concord.config.errors import ConfigError
from concord.config.settings import Settings
from concord.core.erasure import Retention
from concord.core.intake import plain_words
from concord.delivery.compose import Compose
from concord.embedded.outbox import Outbox
from concord.inbound.replies import Replies
from concord.inbound.server import serve
from concord.notifiers.registry import Registry, build_registry
from concord.notifiers.render import Renderer
from concord.playbooks.loader import PlaybookSet
from concord.privacy.blobs import blobs_for
from concord.privacy.keys import Sealer, ensure_keys, sealer_for
from concord.streams import topics as t
from concord.streams.audit import STAGES
from concord.streams.patches import (
    Writes,
    durable_flush,
    exact_highwaters,
    fetch_wait,
    prompt_producer,
    reread_cleared,
    seek_unread_from_start,
    stop_without_waiting,
    trace_partitions,
)
from concord.streams.tables import Shape
from concord.web import (
    api,
    audit_log,
    board,
    email_links,
    evidence,
    indicators,
    pages,
    panel,
    persons,
    readmodel,
    referral,
    report,
    reportapi,
    security,
    session,
    triage,
)
from concord.web import capin as capin_web
from concord.web import slack as slack_web
from concord.web import tasks as tasks_web
from concord.web.readmodel import ReadModel
from concord.web.site import Pages, Site
from concord.web.throttle import RateLimit
from concord.web.votes import Ballot
from concord.worker.live import LivePlaybooks
from concord.worker.metrics import Metrics
from concord.worker.observer import Observer, guarded
from concord.worker.runtime import Batching, Flow, Flusher, Health

log = logging.getLogger(__name__)


class PlaybookError(ConfigError):
    """The playbooks do not load; `problems` are file:line:col lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"the playbooks do not load ({len(problems)} problem(s), the first: {problems[0]}):"
            " run `concord playbooks validate` for all of them"
        )


@dataclass(frozen=True)
class Worker:
    """A worker, built: the Faust app to run, and what extras (the demo) bind to."""

    app: faust.App
    settings: Settings
    flow: Flow
    readmodel: ReadModel
    watchdog: watchdog.Watchdog


def _faust_app(settings: Settings) -> faust.App:
    broker = settings.resolved_broker()
    if not broker:
        raise ConfigError("no broker: set CONCORD_BROKER, or start `concord up` in this directory")
    session = settings.session_timeout
    return faust.App(
        settings.app_id,
        broker=broker,
        store=settings.store,
        datadir=str(settings.data_dir / "tables"),
        autodiscover=False,
        processing_guarantee="at_least_once",  # Tansu refuses idempotent producers
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        broker_session_timeout=session,
        broker_rebalance_timeout=session,
        broker_heartbeat_interval=max(0.5, session / 10),
        consumer_auto_offset_reset="earliest",
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Faust's own views would expose tables (personal data) without authentication.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_application_options={"client_max_size": settings.max_body_bytes + 1},
        # Records (situations, tasks) run to kilobytes: with 16 KB batches a send waits
        # for the previous batch of its partition after a few records.
        producer_max_batch_size=256 * 1024,
        logging_config=None,
    )


async def reload_playbooks(
    playbooks: LivePlaybooks, flow: Flow, metrics: Metrics, where: str
) -> None:
    """Live reload: poll the playbooks directory; apply a valid change, refuse a bad one."""
    # Loading runs the examples (~0.2 s for the shipped set): off the event loop. The new
    # set replaces the old one in a single attribute assignment.
    result = await asyncio.to_thread(playbooks.poll)
    if result.outcome == "unchanged" or result.loaded is None:
        return
    metrics.playbook_reloads.labels(result.outcome).inc()
    if result.outcome == "applied":
        metrics.playbooks_loaded.set(len(result.loaded.playbooks))
        log.info("playbooks reloaded: %s", result.loaded.summary())
        flow.observer.reloaded(result.loaded.summary(), [])
        await flow.audit("concord", "playbooks.reloaded", where, playbooks=result.loaded.summary())
    else:
        flow.observer.reloaded("", result.problems)
        problems = "\n".join(result.problems)[:4000]
        await flow.audit("concord", "playbooks.refused", where, problems=problems)


async def _rebalanced(health: Health, *args: Any, **kwargs: Any) -> None:
    health.ready = True


def _playbooks(settings: Settings, directory: Directory) -> tuple[LivePlaybooks, PlaybookSet]:
    """The live playbooks, loaded once (raises PlaybookError with every problem)."""
    playbooks = LivePlaybooks(
        settings.playbooks, directory, timedelta(hours=settings.correlation_window_hours)
    )
    loaded = playbooks.reload()
    if not loaded.ok:
        raise PlaybookError([str(p) for p in loaded.problems])
    return playbooks, loaded


def _patch_faust(settings: Settings) -> None:
    """What Concord changes in Faust's and aiokafka's consumers and producer
    (`concord.streams.patches`)."""
    fetch_wait(settings.fetch_wait_ms)
    exact_highwaters()
    seek_unread_from_start()
    stop_without_waiting()
    prompt_producer()
    if settings.trace:
        trace_partitions()


def _drill(name: str, stage: str) -> str:
    """The stage a drill acts on (`CONCORD_FAULT_*_STAGE`), checked against the stages."""
    if stage and stage not in STAGES:
        raise ConfigError(f"{name}: {stage!r} is not a stage; use one of {', '.join(STAGES)}")
    return stage


def _flow(
    settings: Settings,
    app: faust.App,
    sealer: Sealer,
    directory: Directory,
    observer: Observer | None,
    writes: Writes,
) -> Flow:
    """What every stage shares."""
    return Flow(
        topics=t.declare(app, settings.partitions, settings.raw_retention_hours),
        sealer=sealer,
        metrics=Metrics(),
        observer=guarded(observer or Observer()),
        flusher=Flusher(lambda: app.producer.flush(), writes),
        fault_stall=_drill("CONCORD_FAULT_STALL_STAGE", settings.fault_stall_stage),
        fault_crash=_drill("CONCORD_FAULT_CRASH_STAGE", settings.fault_crash_stage),
        batching=Batching(settings.batch_most, settings.batch_within_ms / 1000),
        stopping=lambda: bool(app.should_stop),
        words=plain_words(directory),
        blobs=blobs_for(settings),
        ack_seconds=settings.broker_ack_seconds,
    )


def create_app(
    settings: Settings, *, outbox: Outbox | None = None, observer: Observer | None = None
) -> Worker:
    """Build a Concord worker (Faust app, agents, web views) from settings."""
    logsafe.install()
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # tables live under it
    directory = load_directory(settings.directory)
    # Before ensure_keys: a ring read from its file is watched.
    sealer = sealer_for(settings, directory.city.region)
    settings = ensure_keys(settings)
    assert settings.data_key is not None
    assert settings.secret_key is not None
    playbooks, loaded = _playbooks(settings, directory)
    _patch_faust(settings)
    app = _faust_app(settings)
    writes = durable_flush(app.producer)
    reread_cleared(app)
    flow = _flow(settings, app, sealer, directory, observer, writes)
    flow.metrics.playbooks_loaded.set(len(loaded.playbooks))
    public_url = settings.public_url or f"http://{settings.web_host}:{settings.web_port}"
    renderer = Renderer(directory.city.timezone, public_url)
    pages = Pages(directory.city.timezone, directory)  # messages use its catalogues too
    renderer.speak(pages.catalogues.translations, pages.catalogues.words)
    signer = Signer(settings.secret_key)
    links_base = f"{public_url.rstrip('/')}/t/"
    horizon = timedelta(hours=settings.delivery_horizon_hours)
    compose = Compose(directory, renderer, signer, links_base, horizon, settings.inbound_domain)
    registry = build_registry(settings)
    app.on_rebalance_complete.connect(functools.partial(_rebalanced, flow.health))
    every(
        app,
        settings.playbooks_poll_seconds,
        "playbook reload",
        functools.partial(reload_playbooks, playbooks, flow, flow.metrics, str(settings.playbooks)),
    )

    _register_stages(app, flow, settings, directory, playbooks, compose, registry)
    dog = watchdog.register(app, flow, settings)
    read_model = readmodel.register(app, settings)
    _register_retention(app, flow, read_model, settings)
    known = capin.Known(read_model.situations.values, read_model.tasks_of)
    capin.register(app, flow, directory, known)  # a Cancel reads the situations
    site = Site(flow, read_model, directory, signer, pages, settings.public_url, links_base)
    security.install(cast(Any, app.web).web_app, cast(Any, site.unavailable))  # aiohttp's
    if settings.inbound_port and settings.inbound_domain:  # replies and reports by email
        limit = RateLimit(settings.report_limit, settings.report_window_seconds)
        mail = Replies(flow, read_model, directory, compose, signer.reply_key,
                       settings.inbound_domain, report.Reports(site, limit, compose))  # fmt: skip
        app.task(functools.partial(serve, mail, settings))
    _register_web(app, site, settings, playbooks, renderer, registry, compose, outbox)
    return Worker(app, settings, flow, read_model, dog)


def _register_retention(app: Any, flow: Flow, readmodel: ReadModel, settings: Settings) -> None:
    """Retention runs from the read model: every key and situation, once caught up."""
    retention.register(
        app,
        flow,
        retention.Holdings(
            readmodel.keys, readmodel.situations.values, lambda: readmodel.caught_up
        ),
        Retention(settings.retention_days, settings.unattached_retention_days),
        settings.retention_check_seconds,
        settings.partitions,
    )


def _register_stages(
    app: faust.App,
    flow: Flow,
    settings: Settings,
    directory: Directory,
    playbooks: LivePlaybooks,
    compose: Compose,
    registry: Registry,
) -> None:
    """The agents of the flow, in its order."""
    parts, tick = Shape.of(settings), settings.tick_seconds
    intake.register(app, flow, directory)
    planning = plan.register(app, flow, directory, playbooks, parts)
    correlate.register(app, flow, directory, playbooks, parts, planning, compose)
    amend_every = timedelta(seconds=settings.panel_amend_interval_seconds)
    gate.register(app, flow, directory, playbooks, compose, parts, tick, amend_every)
    track.register(app, flow, directory, compose, parts, tick)
    deliver.register(app, flow, registry, compose, settings)
    published = publish.register(app, flow, directory, settings.smtp_from, parts)
    if published is not None:
        published.words, published.say = compose.renderer.words, compose.renderer.say


def _register_web(
    app: faust.App,
    site: Site,
    settings: Settings,
    playbooks: LivePlaybooks,
    renderer: Renderer,
    registry: Registry,
    compose: Compose,
    outbox: Outbox | None,
) -> None:
    ballot = Ballot(site, playbooks)
    panel_pages = panel.PanelPages(ballot, renderer)
    api.register(
        app, api.Api(ballot, settings.max_body_bytes, settings.max_batch, settings.smtp_from)
    )
    tasks_web.register(app, site)
    persons.register(app, site)
    pages.register(app, pages.Operations(site, playbooks, registry), outbox)
    session.register(app, site, compose)
    panel.register(app, panel_pages)
    email_links.register(app, panel_pages)
    slack_web.register(app, ballot, registry.views, settings.slack_signing_secret)
    board.register(app, site)
    indicators.register(app, site)
    audit_log.register(app, site)
    limit = RateLimit(settings.report_limit, settings.report_window_seconds)
    reportapi.register(app, report.register(app, site, limit, compose))
    evidence.register(app, site)
    capin_web.register(app, site)
    triage.register(app, site)
    referral.register(app, site)
