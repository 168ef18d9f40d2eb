"""The CLI's side of Kafka, with kafka-python: send signals, create tokens, read dead letters."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from concord.core.intake import validate_signal
from concord.core.refusal import Refused
from concord.directory import load_directory
from concord.keys import Sealer, ensure_keys
from concord.settings import Settings
from concord.streams import topics as t
from concord.streams.access import ApiToken
from concord.streams.audit import DeadLetter
from concord.tokens import new_token, token_hash, token_refusal


def _producer(settings: Settings) -> Any:
    from kafka import KafkaProducer

    t.ensure_topics(settings.bootstrap_servers(), settings.partitions, settings.replication)
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(),
        acks="all",
        enable_idempotence=False,  # Tansu refuses idempotent producers
        client_id="concord-cli",
    )


def send_signals(settings: Settings, lines: Iterable[str], name: str) -> tuple[int, list[str]]:
    """Validate and produce JSON lines; return (sent, `name:line: problem` lines)."""
    directory = load_directory(settings.directory)
    refused: list[str] = []
    batch: list[tuple[str, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            refused.append(f"{name}:{number}: not JSON: {exc.msg}")
            continue
        result = validate_signal(data, directory)
        if isinstance(result, Refused):
            refused.extend(f"{name}:{number}: {e['loc']}: {e['msg']}" for e in result.errors)
            continue
        batch.append((result.id, line.strip().encode()))
    if batch:
        producer = _producer(settings)
        try:
            for key, value in batch:
                producer.send(t.SIGNALS_IN.name, key=key.encode(), value=value)
            producer.flush()
        finally:
            producer.close()
    return len(batch), refused


def create_token(settings: Settings, name: str, role: str, agency: str | None) -> str:
    """Store a new token's hash on `concord.tokens`; return the token (shown once)."""
    refusal = token_refusal(load_directory(settings.directory), name, role, agency)
    if refusal is not None:
        raise ValueError(refusal)
    token = new_token()
    record = ApiToken.model_validate(
        {"hash": token_hash(token), "name": name, "role": role, "agency": agency}
    )
    producer = _producer(settings)
    try:
        producer.send(
            t.TOKENS.name, key=record.hash.encode(), value=record.model_dump_json().encode()
        )
        producer.flush()
    finally:
        producer.close()
    return token


def read_deadletters(
    settings: Settings, limit: int, with_original: bool
) -> Iterator[tuple[DeadLetter, bytes | None]]:
    """Dead letters from the beginning of the topic, originals opened on request."""
    from kafka import KafkaConsumer

    t.require_broker(settings.bootstrap_servers())
    sealer = Sealer(ensure_keys(settings).data_key) if with_original else None  # type: ignore[arg-type]
    consumer = KafkaConsumer(
        t.DEADLETTER.name,
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
        group_id=None,
    )
    try:
        for count, record in enumerate(consumer):
            if count >= limit:
                break
            dead = DeadLetter.model_validate_json(record.value)
            yield dead, sealer.open(dead.original) if sealer else None
    finally:
        consumer.close()
