"""The topics of the flow, declared once for Faust and for the CLI's admin client.

Faust moves raw bytes; `Topic[M]` is the typed seam around each Faust topic: `send`
takes the topic's model, `decode` validates bytes into it. Agents decode inside their
guarded loop (`concord.agents.stage`), so a record that does not decode is dead-lettered
with its bytes instead of crashing the agent (Faust would ack and drop it).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from concord.config.errors import ConfigError
from concord.streams import access as ac
from concord.streams import audit as au
from concord.streams import delivery as d
from concord.streams import held
from concord.streams import keys as ky
from concord.streams import reviews as r
from concord.streams import signals as sg
from concord.streams import situations as st
from concord.streams import tasks as tk
from concord.streams import triage as tr

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TopicSpec(Generic[M]):
    """A topic: its name, the model its values carry (None: raw bytes), whether compacted."""

    name: str
    model: type[M] | None
    compacted: bool = False
    doc: str = ""


class RawTopic:
    """A declared topic of raw bytes (what producers send before intake); `channel` is
    the Faust topic agents consume."""

    def __init__(self, spec: TopicSpec[Any], channel: Any) -> None:
        self.spec = spec
        self.channel = channel

    @property
    def name(self) -> str:
        """The topic's name."""
        return self.spec.name

    async def send(self, key: str, value: bytes) -> Any:
        """Hand the record to the producer; returns the client's future (await it for the
        broker's ack). Straight to Faust's producer: the topic's own send path (future
        messages, serializers, callbacks) costs more than the record for raw bytes."""
        producer = self.channel.app.producer
        future = await producer.send(self.spec.name, key.encode(), value, None, None, None)
        held.sent(future)  # the batch being handled writes its tables once this is durable
        return future


class Topic(RawTopic, Generic[M]):
    """A declared topic of one model: typed sends, and `decode` for the agents."""

    spec: TopicSpec[M]

    def encode(self, value: M) -> bytes:
        """The value as the topic's bytes (JSON of its model)."""
        return value.model_dump_json().encode()

    def decode(self, raw: bytes) -> M:
        """The record's value as the topic's model (raises pydantic's ValidationError)."""
        assert self.spec.model is not None
        return self.spec.model.model_validate_json(raw)

    async def send(self, key: str, value: M) -> Any:  # type: ignore[override]
        """Send a value of the topic's model; returns the broker's future."""
        return await super().send(key, self.encode(value))

    async def tombstone(self, key: str) -> Any:
        """A record with no value: on a compacted topic, the key is deleted."""
        producer = self.channel.app.producer
        future = await producer.send(self.spec.name, key.encode(), None, None, None, None)
        held.sent(future)
        return future


SIGNALS_IN: TopicSpec[Any] = TopicSpec("concord.signals.in", None, doc="raw producer bytes")
CAP_IN: TopicSpec[Any] = TopicSpec("concord.cap.in", None, doc="raw CAP 1.2 alerts")
TRIAGE = TopicSpec("concord.triage", tr.TriageItem, True, "signals waiting to be placed")
SIGNALS = TopicSpec("concord.signals", sg.Signal, doc="validated signals, keyed by zone")
DEADLETTER = TopicSpec("concord.deadletter", au.DeadLetter, doc="original bytes + reason")
SITUATIONS = TopicSpec("concord.situations", st.Situation, True, "situation snapshots")
TASK_STATE = TopicSpec("concord.task-state", tk.Task, True, "task snapshots for the board")
OUTGOING = TopicSpec(
    "concord.outgoing", d.DeliveryRequest, doc="every message to deliver, keyed by its key"
)
DELIVERY_STATE = TopicSpec(
    "concord.delivery-state",
    d.DeliveryRecord,
    True,
    "where each message's delivery stands, with its attempts' receipts",
)
TASK_EVENTS = TopicSpec(
    "concord.task-events", tk.TaskEvent, doc="every change of a task, keyed by task id"
)
AUDIT = TopicSpec("concord.audit", au.AuditRecord, doc="every transition")
TOKENS = TopicSpec("concord.tokens", ac.ApiToken, True, "API tokens, hashed")
REVIEW_EVENTS = TopicSpec(
    "concord.review-events", r.ReviewEvent, doc="open / vote / tick, keyed by situation id"
)
REVIEWS = TopicSpec("concord.reviews", r.ReviewRecord, True, "the panel's reviews")
KEYS = TopicSpec(
    "concord.keys", ky.DataKey, True, "data keys of personal data, wrapped; a tombstone erases"
)
SESSIONS = TopicSpec(
    "concord.sessions", ac.SessionMark, True, "signed-out sessions, used sign-in links"
)
SITUATION_COMMANDS = TopicSpec(
    "concord.situation-commands", st.SituationCommand, doc="state changes, keyed like signals"
)

ALL: tuple[TopicSpec[Any], ...] = (
    SIGNALS_IN,
    CAP_IN,
    TRIAGE,
    SIGNALS,
    DEADLETTER,
    SITUATIONS,
    TASK_STATE,
    OUTGOING,
    DELIVERY_STATE,
    TASK_EVENTS,
    AUDIT,
    TOKENS,
    REVIEW_EVENTS,
    REVIEWS,
    SITUATION_COMMANDS,
    SESSIONS,
    KEYS,
)


@dataclass(frozen=True)
class Topics:
    """Every topic of a running worker, typed."""

    signals_in: RawTopic
    cap_in: RawTopic
    triage: Topic[tr.TriageItem]
    signals: Topic[sg.Signal]
    deadletter: Topic[au.DeadLetter]
    situations: Topic[st.Situation]
    task_state: Topic[tk.Task]
    outgoing: Topic[d.DeliveryRequest]
    delivery_state: Topic[d.DeliveryRecord]
    task_events: Topic[tk.TaskEvent]
    audit: Topic[au.AuditRecord]
    tokens: Topic[ac.ApiToken]
    review_events: Topic[r.ReviewEvent]
    reviews: Topic[r.ReviewRecord]
    situation_commands: Topic[st.SituationCommand]
    sessions: Topic[ac.SessionMark]
    keys: Topic[ky.DataKey]


#: How long Kafka keeps raw producer bytes (`concord.signals.in`) by default: they are
#: not sealed yet, and intake takes them within seconds (`CONCORD_RAW_RETENTION_HOURS`).
RAW_RETENTION_HOURS = 24.0


def configs(spec: TopicSpec[Any], raw_retention_hours: float) -> dict[str, str]:
    """A topic's Kafka configuration at creation."""
    if spec.compacted:
        return {"cleanup.policy": "compact"}
    if spec in (SIGNALS_IN, CAP_IN):
        return {"retention.ms": str(int(raw_retention_hours * 3600_000))}
    return {}


def declare(app: Any, partitions: int, raw_retention_hours: float = RAW_RETENTION_HOURS) -> Topics:
    """Declare every topic on a Faust app (values as raw bytes; `Topic` types them)."""

    def channel(spec: TopicSpec[Any]) -> Any:
        raw = spec in (SIGNALS_IN, CAP_IN)
        return app.topic(
            spec.name,
            key_type=str,
            value_serializer="raw",
            partitions=partitions,
            retention=timedelta(hours=raw_retention_hours) if raw else None,
            compacting=spec.compacted or None,
            internal=True,  # Faust declares (creates) it with our partition count
        )

    def typed(spec: TopicSpec[M]) -> Topic[M]:
        return Topic(spec, channel(spec))

    return Topics(
        signals_in=RawTopic(SIGNALS_IN, channel(SIGNALS_IN)),
        cap_in=RawTopic(CAP_IN, channel(CAP_IN)),
        triage=typed(TRIAGE),
        signals=typed(SIGNALS),
        deadletter=typed(DEADLETTER),
        situations=typed(SITUATIONS),
        task_state=typed(TASK_STATE),
        outgoing=typed(OUTGOING),
        delivery_state=typed(DELIVERY_STATE),
        task_events=typed(TASK_EVENTS),
        audit=typed(AUDIT),
        tokens=typed(TOKENS),
        review_events=typed(REVIEW_EVENTS),
        reviews=typed(REVIEWS),
        situation_commands=typed(SITUATION_COMMANDS),
        sessions=typed(SESSIONS),
        keys=typed(KEYS),
    )


BROKER_HINT = (
    "start it, or `concord up` in this directory, or set CONCORD_BROKER "
    "(a stale .concord/broker file names a broker that is gone: remove it)"
)


def require_broker(bootstrap: list[str], timeout: float = 3.0) -> None:
    """Raise `ConfigError` unless one of the servers accepts a TCP connection.

    kafka-python on its own retries an absent broker for about 40 s and logs a line
    per attempt; a person at the CLI wants one line, now."""
    for server in bootstrap:
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout):
                return
        except (OSError, ValueError):
            continue
    raise ConfigError(f"no Kafka broker answers at {','.join(bootstrap)}: {BROKER_HINT}")


def wait_for_broker(
    bootstrap: list[str],
    seconds: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Wait for a broker to answer, up to `seconds`: a worker started with (or before)
    its broker. Each wait is logged once and doubles (1, 2, 4 ... 15 s): no busy loop.
    Raises `ConfigError` (see `require_broker`) when the time is up."""
    deadline = clock() + seconds
    pause = 1.0
    while True:
        try:
            require_broker(bootstrap)
            return
        except ConfigError:
            left = deadline - clock()
            if left <= 0:
                raise
            wait = min(pause, left)
            say(f"broker {','.join(bootstrap)} does not answer; trying again in {wait:.0f} s")
            sleep(wait)
            pause = min(pause * 2, 15.0)


def ensure_topics(
    bootstrap: list[str],
    partitions: int,
    replication: int = 1,
    raw_retention_hours: float = RAW_RETENTION_HOURS,
) -> list[str]:
    """Create any missing topic with kafka-python's admin client; return the ones created."""
    require_broker(bootstrap)
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="concord-admin")
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                t.name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs=configs(t, raw_retention_hours),
            )
            for t in ALL
            if t.name not in existing
        ]
        created: list[str] = []
        for topic in missing:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass  # another worker or CLI won the race
        return created
    finally:
        admin.close()
