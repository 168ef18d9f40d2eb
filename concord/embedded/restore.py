"""Restoring the single-machine archive (`concord.embedded.archive`) into a fresh
embedded broker at `concord up`: topics, records in offset order, the groups' offsets."""

from __future__ import annotations

from typing import Any

from concord.embedded.archive import Archive


def _create(topics: dict[str, tuple[int, bool]], bootstrap: str) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="concord-restore")
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                t,
                num_partitions=n,
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"} if c else {},
            )
            for t, (n, c) in topics.items()
            if t not in existing
        ]
        if missing:
            admin.create_topics(missing)
    finally:
        admin.close()


def restore(archive: Archive, bootstrap: str) -> int:
    """Put the archive back into a fresh broker: topics, records in offset order, the
    groups' committed offsets. Returns how many records were restored."""
    from kafka import KafkaProducer

    topics = archive.topics()
    if not topics:
        return 0
    _create(topics, bootstrap)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=0
    )
    restored = 0
    moved: dict[tuple[str, int], dict[int, int]] = {}
    try:
        for topic, (partitions, _) in sorted(topics.items()):
            for partition in range(partitions):
                futures = []
                for r in archive.records(topic, partition):
                    futures.append(
                        (
                            r.offset,
                            producer.send(
                                topic,
                                key=r.key,
                                value=r.value,
                                headers=r.headers,
                                partition=partition,
                                timestamp_ms=r.timestamp,
                            ),
                        )
                    )
                producer.flush()
                # Offsets match when the archive has no gap; if it has one, the groups'
                # committed offsets follow the records to where they are now, and so
                # does the archive (the archiver goes on from the broker's offsets).
                where = {old: future.get(timeout=30).offset for old, future in futures}
                moved[(topic, partition)] = where
                if any(old != new for old, new in where.items()):
                    archive.renumber(topic, partition, where)
                restored += len(futures)
    finally:
        producer.close()
    _commit(archive.offsets(), moved, bootstrap)
    return restored


def _commit(
    groups: dict[str, dict[tuple[str, int], int]],
    moved: dict[tuple[str, int], dict[int, int]],
    bootstrap: str,
) -> None:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    for group, offsets in groups.items():
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        try:
            commit: dict[Any, Any] = {}
            for (topic, partition), offset in offsets.items():
                where = moved.get((topic, partition), {})
                # The committed offset is the next record to read: map the last one read,
                # or else the first one not read (records before it may be gone).
                if offset - 1 in where:
                    new = where[offset - 1] + 1
                else:  # the partition starts afresh at 0 in the new broker
                    after = [n for old, n in where.items() if old >= offset]
                    new = min(after) if after else max(where.values(), default=-1) + 1
                commit[TopicPartition(topic, partition)] = OffsetAndMetadata(new, "", -1)
            if commit:
                consumer.commit(commit)
        finally:
            consumer.close()
