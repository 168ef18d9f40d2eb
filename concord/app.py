"""`create_app(settings)`: the only place where Concord is wired together.

Nothing is chosen at import time: the broker, the store, the notifiers, the directory
and the playbooks all come from the settings passed in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import faust

from concord import logsafe
from concord.agents.stage import survives
from concord.delivery.compose import Compose
from concord.directory import Directory, load_directory
from concord.embedded.outbox import Outbox
from concord.keys import Sealer, ensure_keys
from concord.links import Signer
from concord.live import LivePlaybooks
from concord.metrics import Metrics
from concord.notifiers.registry import Registry, build_registry
from concord.notifiers.render import Renderer
from concord.observer import Observer, guarded
from concord.settings import Settings
from concord.streams import topics as t
from concord.streams.audit import AuditEntry, DeadLetter
from concord.streams.delivery import DeliveryRequest, Outgoing
from concord.web import security

if TYPE_CHECKING:
    from concord.agents.deliver import Delivery

log = logging.getLogger(__name__)


class PlaybookError(Exception):
    """The playbooks do not load; the message lists file:line:col problems."""


@dataclass
class Concord:
    """Everything a running worker needs, built by `create_app`."""

    settings: Settings
    app: faust.App
    directory: Directory
    playbooks: LivePlaybooks
    sealer: Sealer
    registry: Registry
    renderer: Renderer
    compose: Compose
    metrics: Metrics
    observer: Observer
    outbox: Outbox | None
    signer: Signer
    links_base: str
    topics: t.Topics
    tables: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    #: stage -> (records it failed on since start, when it last failed), for /healthz
    failures: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    delivery: Delivery | None = None  # the delivery stage (for /healthz)
    flusher: Flusher = field(default_factory=lambda: Flusher(None))

    async def audit(
        self, actor: str, action: str, subject: str, channel: str | None = None, **details: str
    ) -> None:
        """Record a transition on `concord.audit`."""
        entry = AuditEntry(
            actor=actor, action=action, subject=subject, channel=channel, details=details
        )
        await self.topics.audit.send(key=subject, value=entry)

    async def post(self, outgoing: Outgoing) -> None:
        """Hand a message to the delivery stage (`concord.outgoing`); returns once it is
        buffered: the caller never waits on a carrier."""
        request = DeliveryRequest(key=outgoing.key, outgoing=outgoing)
        await self.topics.outgoing.send(key=outgoing.key, value=request)

    async def withdraw(self, key: str, reason: str) -> None:
        """The message with this key is moot: not delivered yet, it never will be."""
        request = DeliveryRequest(key=key, action="withdraw", reason=reason)
        await self.topics.outgoing.send(key=key, value=request)

    async def durable(self) -> None:
        """Wait until the writes made so far (table changelogs included) are in Kafka.

        Callers that wait at the same time share one flush (the delivery stage has many
        attempts in flight, each waiting for its own record to be durable)."""
        await self.flusher.wait()

    async def deadletter(
        self,
        stage: str,
        message: Any,
        raw: bytes,
        reason: str,
        errors: list[dict[str, str]],
        *,
        failure: bool = True,
    ) -> DeadLetter:
        """Put a record a stage could not process on `concord.deadletter` (sealed: raw
        reports may name victims), count it and audit it. Nothing is dropped.

        `failure`: the stage failed on it (a bug, a poison record: `/healthz` says so),
        rather than refusing a producer's invalid input."""
        where = f"{message.topic}:{message.partition}:{message.offset}"
        key = message.key
        if isinstance(key, bytes):
            key = key.decode("utf-8", "replace")
        dead = DeadLetter(
            reason=reason,
            errors=errors,
            original=self.sealer.seal(raw),
            original_size=len(raw),
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            stage=stage,
            key=None if key is None else str(key),
        )
        await self.topics.deadletter.send(key=where, value=dead)
        self.metrics.deadletters.labels(reason).inc()
        if failure:
            self.metrics.stage_failures.labels(stage).inc()
            self.failures[stage] = (self.failures.get(stage, (0, dead.at))[0] + 1, dead.at)
        self.observer.deadletter(dead)
        await self.audit("concord", "record.deadlettered", where, stage=stage, reason=reason)
        return dead


def _faust_app(settings: Settings) -> faust.App:
    broker = settings.resolved_broker()
    if not broker:
        raise RuntimeError("no broker: set CONCORD_BROKER (or use `concord up`)")
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


class Flusher:
    """One producer flush for every caller waiting at the same time.

    `wait()` returns after a flush that started after the call: a flush covers the writes
    made before it began, so a caller whose writes came during a flush waits for the next.
    """

    def __init__(self, flush: Callable[[], Awaitable[None]] | None) -> None:
        self.flush = flush
        self._next: asyncio.Future[None] | None = None
        self._running: asyncio.Task[None] | None = None

    async def wait(self) -> None:
        if self.flush is None:
            return
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._loop())
        await asyncio.shield(waiter)

    async def _loop(self) -> None:
        assert self.flush is not None
        while self._next is not None:
            waiter, self._next = self._next, None
            try:
                await self.flush()
            except Exception as exc:  # every waiter hears it
                waiter.set_exception(exc)
            else:
                waiter.set_result(None)


def short_polls(consumer: Any, ms: int) -> Any:
    """An aiokafka consumer (not started yet) that waits at most `ms` per fetch, and as
    long for records it has not handed out yet before it fetches again.

    aiokafka fetches nothing from a broker while one of its partitions holds records not
    consumed yet, up to `prefetch_backoff` (100 ms): with one broker, any busy stream
    held every other one back that long (the p99 of each hop was ~120 ms).
    """
    consumer._fetch_max_wait_ms = ms  # read by aiokafka when the consumer starts
    start = consumer.start

    async def started() -> None:
        await start()
        consumer._fetcher._prefetch_backoff = ms / 1000

    consumer.start = started
    return consumer


def fetch_wait(ms: int) -> None:
    """Make every Kafka consumer of this process wait at most `ms` for data per fetch.

    Faust's consumer long-polls with `fetch_max_wait_ms=1500`, fixed. A broker that
    answers fetches one at a time (Tansu does) then holds every other consumer's fetch
    behind an idle one: measured here, each hop of the flow waited ~750 ms on average,
    ~3 s from POST to Slack. With short polls a hop takes a few milliseconds; on Apache
    Kafka they cost a few more small requests per second.
    """
    from faust.transport.drivers import aiokafka as driver

    thread = driver.AIOKafkaConsumerThread
    create = getattr(thread, "_concord_create", None) or thread._create_worker_consumer

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        return short_polls(create(self, transport), ms)

    thread._concord_create = create  # type: ignore[attr-defined]
    thread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]


def durable_flush(app: faust.App) -> None:
    """Make the producer's `flush` wait for every buffered write.

    Faust flushes the producer before it commits offsets, but its buffer's flush gives up
    after 0.1 s without progress: offsets could then be committed past records whose
    table changelog writes were still in the buffer, and a stop or a crash lost them (a
    task created, then "unknown" after a restart). Draining the buffer first makes every
    commit, and the flush at shutdown, follow the writes of what it commits.
    """
    producer = app.producer
    flush_sent = producer.flush

    async def flush() -> None:
        # Wait for the writes queued before this call (not for those queued after it: a
        # busy worker always has some), then for the client's in-flight batches.
        buffer: Any = producer.buffer  # faust's ProducerBuffer (its type hides `message_sent`)
        ahead = buffer.size
        while ahead > 0 and buffer.size > 0:
            buffer.message_sent.clear()
            try:
                await asyncio.wait_for(buffer.message_sent.wait(), timeout=1.0)
            except TimeoutError:
                if buffer.should_stop:
                    break
                continue
            ahead -= 1
        await flush_sent()

    producer.flush = flush  # type: ignore[method-assign]


def _watch_playbooks(c: Concord) -> None:
    """Live reload: poll the playbooks directory; apply a valid change, refuse a bad one."""

    @c.app.timer(c.settings.playbooks_poll_seconds, on_leader=False)
    @survives("playbook reload")
    async def watch() -> None:
        # Loading runs the examples (~0.2 s for the shipped set): off the event loop. The
        # new set replaces the old one in a single attribute assignment.
        result = await asyncio.to_thread(c.playbooks.poll)
        if result.outcome == "unchanged" or result.loaded is None:
            return
        c.metrics.playbook_reloads.labels(result.outcome).inc()
        if result.outcome == "applied":
            c.metrics.playbooks_loaded.set(len(result.loaded.playbooks))
            log.info("playbooks reloaded: %s", result.loaded.summary())
            c.observer.reloaded(result.loaded.summary(), [])
            await c.audit(
                "concord",
                "playbooks.reloaded",
                str(c.settings.playbooks),
                playbooks=result.loaded.summary(),
            )
        else:
            c.observer.reloaded("", result.problems)
            await c.audit(
                "concord",
                "playbooks.refused",
                str(c.settings.playbooks),
                problems="\n".join(result.problems)[:4000],
            )


def create_app(
    settings: Settings, *, outbox: Outbox | None = None, observer: Observer | None = None
) -> Concord:
    """Build a Concord worker (Faust app, agents, web views) from settings."""
    from concord.agents import correlate, deliver, gate, intake, plan, track
    from concord.web import api, pages, panel, persons, readmodel, session, slack
    from concord.web import tasks as tasks_web

    logsafe.install()
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # tables live under it
    settings = ensure_keys(settings)
    assert settings.data_key is not None and settings.secret_key is not None
    directory = load_directory(settings.directory)
    playbooks = LivePlaybooks(
        settings.playbooks, directory, timedelta(hours=settings.correlation_window_hours)
    )
    loaded = playbooks.reload()
    if not loaded.ok:
        raise PlaybookError("\n".join(str(p) for p in loaded.problems))
    fetch_wait(settings.fetch_wait_ms)
    app = _faust_app(settings)
    durable_flush(app)
    topics = t.declare(app, settings.partitions)
    public_url = settings.public_url or f"http://{settings.web_host}:{settings.web_port}"
    renderer = Renderer(directory.city.timezone, public_url)
    signer = Signer(settings.secret_key)
    links_base = f"{public_url.rstrip('/')}/t/"
    concord = Concord(
        settings=settings,
        app=app,
        directory=directory,
        playbooks=playbooks,
        sealer=Sealer(settings.data_key),
        registry=build_registry(settings),
        renderer=renderer,
        compose=Compose(
            directory,
            renderer,
            signer,
            links_base,
            timedelta(hours=settings.delivery_horizon_hours),
        ),
        metrics=Metrics(),
        observer=guarded(observer or Observer()),
        outbox=outbox,
        signer=signer,
        links_base=links_base,
        topics=topics,
        flusher=Flusher(lambda: app.producer.flush()),
    )
    concord.metrics.playbooks_loaded.set(len(loaded.playbooks))

    async def _rebalanced(sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        concord.ready = True

    security.install(cast(Any, app.web).web_app)  # Faust's aiohttp driver
    app.on_rebalance_complete.connect(_rebalanced)  # type: ignore[arg-type]  # mode types it loosely
    _watch_playbooks(concord)

    intake.register(concord)
    correlate.register(concord)
    plan.register(concord)
    gate.register(concord)
    track.register(concord)
    concord.delivery = deliver.register(concord)
    view = readmodel.register(concord)
    api.register(concord, view)
    pages.register(concord, view)
    session.register(concord, view)
    panel.register(concord, view)
    slack.register(concord, view)
    persons.register(concord, view)
    tasks_web.register(concord, view)
    return concord
