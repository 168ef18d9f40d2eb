"""The topics of DESIGN.md's flow, declared once for Faust and for the CLI's admin client."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from concord.streams import models as m
from concord.streams import reviews as r
from concord.streams import tracking as tr


@dataclass(frozen=True)
class TopicSpec:
    """A topic: its name, the model its values carry (None: raw bytes), whether compacted."""

    name: str
    model: type[BaseModel] | None
    compacted: bool = False
    doc: str = ""


SIGNALS_IN = TopicSpec("concord.signals.in", None, doc="raw producer bytes")
SIGNALS = TopicSpec("concord.signals", m.Signal, doc="validated signals, keyed by correlation zone")
DEADLETTER = TopicSpec("concord.deadletter", m.DeadLetter, doc="original bytes + reason")
SITUATIONS = TopicSpec("concord.situations", m.Situation, True, "situation snapshots")
TASKS = TopicSpec("concord.tasks", m.Task, doc="tasks to dispatch, keyed by task id")
TASK_STATE = TopicSpec("concord.task-state", m.Task, True, "task snapshots for the board")
DELIVERIES = TopicSpec("concord.deliveries", m.Receipt, doc="one receipt per attempt")
TASK_EVENTS = TopicSpec(
    "concord.task-events", tr.TaskEvent, doc="every change of a task, keyed by task id"
)
AUDIT = TopicSpec("concord.audit", m.AuditEntry, doc="every transition")
TOKENS = TopicSpec("concord.tokens", m.ApiToken, True, "API tokens, hashed")
REVIEW_EVENTS = TopicSpec(
    "concord.review-events", r.ReviewEvent, doc="open / vote / tick, keyed by situation id"
)
REVIEWS = TopicSpec("concord.reviews", r.ReviewRecord, True, "the panel's reviews")
SITUATION_COMMANDS = TopicSpec(
    "concord.situation-commands", r.SituationCommand, doc="state changes, keyed like signals"
)

ALL: tuple[TopicSpec, ...] = (
    SIGNALS_IN,
    SIGNALS,
    DEADLETTER,
    SITUATIONS,
    TASKS,
    TASK_STATE,
    DELIVERIES,
    TASK_EVENTS,
    AUDIT,
    TOKENS,
    REVIEW_EVENTS,
    REVIEWS,
    SITUATION_COMMANDS,
)


def ensure_topics(bootstrap: list[str], partitions: int, replication: int = 1) -> list[str]:
    """Create any missing topic with kafka-python's admin client; return the ones created."""
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
                topic_configs={"cleanup.policy": "compact"} if t.compacted else {},
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
