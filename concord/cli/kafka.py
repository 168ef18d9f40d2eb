"""The CLI's side of Kafka, with kafka-python: send signals, create tokens, read and replay
dead letters."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from concord.access.tokens import new_token, token_hash, token_refusal
from concord.config.directory import Directory, load_directory
from concord.config.settings import Settings
from concord.core import capin
from concord.core.commands import plan_command
from concord.core.intake import validate_signal
from concord.core.refusal import Refused
from concord.privacy.keys import Sealer, SealError, latest_keys, sealer_for
from concord.streams import topics as t
from concord.streams.access import ApiToken
from concord.streams.audit import AuditEntry, AuditRecord, DeadLetter
from concord.streams.keys import DataKey
from concord.streams.situations import Situation


def kafka_producer(settings: Settings) -> Any:
    """A kafka-python producer for the CLI (plain, acks from all: Tansu refuses idempotence)."""
    from kafka import KafkaProducer

    t.ensure_topics(
        settings.bootstrap_servers(),
        settings.partitions,
        settings.replication,
        settings.raw_retention_hours,
    )
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(),
        acks="all",
        enable_idempotence=False,  # Tansu refuses idempotent producers
        client_id="concord-cli",
    )


@dataclass(frozen=True)
class Sending:
    """What `signal send` did: signals sent, lines refused, and each problem as
    `name:line: field: problem` (a line may have several)."""

    sent: int
    refused_lines: int
    problems: list[str]


def send_signals(settings: Settings, lines: Iterable[str], name: str) -> Sending:
    """Validate and produce JSON lines (blank lines are skipped)."""
    directory = load_directory(settings.directory)
    problems: list[str] = []
    refused = 0
    batch: list[tuple[str, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            refused += 1
            problems.append(f"{name}:{number}: not JSON: {exc.msg}")
            continue
        result = validate_signal(data, directory)
        if isinstance(result, Refused):
            refused += 1
            problems.extend(f"{name}:{number}: {e['loc']}: {e['msg']}" for e in result.errors)
            continue
        batch.append((result.id, line.strip().encode()))
    if batch:
        producer = kafka_producer(settings)
        try:
            for key, value in batch:
                producer.send(t.SIGNALS_IN.name, key=key.encode(), value=value)
            producer.flush()
        finally:
            producer.close()
    return Sending(len(batch), refused, problems)


def send_cap(settings: Settings, raw: bytes, name: str) -> capin.Mapped | list[str]:
    """Check a CAP 1.2 alert as `POST /api/cap` does and produce it to `concord.cap.in`;
    what it becomes, or its problems as `name: xpath: problem`."""
    mapped = capin.read(raw, load_directory(settings.directory))
    if isinstance(mapped, Refused):
        return [f"{name}: {e['loc']}: {e['msg']}" for e in mapped.errors] or [mapped.reason]
    producer = kafka_producer(settings)
    try:
        producer.send(t.CAP_IN.name, key=mapped.identifier[:200].encode(), value=raw)
        producer.flush()
    finally:
        producer.close()
    return mapped


def create_token(settings: Settings, name: str, role: str, agency: str | None) -> str:
    """Store a new token's hash on `concord.tokens`; return the token (shown once)."""
    refusal = token_refusal(load_directory(settings.directory), name, role, agency)
    if refusal is not None:
        raise ValueError(refusal)
    token = new_token()
    record = ApiToken.model_validate(
        {"hash": token_hash(token), "name": name, "role": role, "agency": agency}
    )
    producer = kafka_producer(settings)
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
) -> Iterator[tuple[str, DeadLetter, bytes | None]]:
    """Dead letters from the beginning of the topic: (id, letter, original bytes if asked).

    A dead letter's id is its place on `concord.deadletter` (`dl-PARTITION-OFFSET`)."""
    t.require_broker(settings.bootstrap_servers())
    sealer = sealer_for(settings) if with_original else None
    keys = read_keys(settings) if with_original else {}
    for count, record in enumerate(_everything(settings, t.DEADLETTER.name)):
        if count >= limit:
            break
        dead = DeadLetter.model_validate_json(record.value)
        letter_id = f"dl-{record.partition}-{record.offset}"
        yield letter_id, dead, _opened(sealer, dead.original, keys)


def _opened(sealer: Sealer | None, sealed: str, keys: dict[str, DataKey]) -> bytes | None:
    if sealer is None:
        return None
    try:
        return sealer.open(sealed, keys)
    except SealError:  # erased, or sealed under a key no longer in the ring
        return None


def read_records(settings: Settings, topic: str) -> list[tuple[str, bytes | None]]:
    """Every record of a topic from the beginning, as (key, value)."""
    t.require_broker(settings.bootstrap_servers())
    return [(r.key.decode() if r.key else "", r.value) for r in _everything(settings, topic)]


def read_situations(settings: Settings) -> list[Situation]:
    """The latest snapshot of every situation on `concord.situations`."""
    latest: dict[str, bytes | None] = {}
    for key, value in read_records(settings, t.SITUATIONS.name):
        latest[key] = value  # a compacted topic: the last record of a key wins
    return [Situation.model_validate_json(v) for v in latest.values() if v]


def read_keys(settings: Settings) -> dict[str, DataKey]:
    """The live data keys on `concord.keys` (tombstoned ones are gone)."""
    return latest_keys(read_records(settings, t.KEYS.name))


def _everything(settings: Settings, topic: str) -> Iterator[Any]:
    """Every record of a topic from the beginning up to its end when asked, then stop.

    Done when every partition is past its reported end and a fetch brings nothing more:
    Tansu reports the end short (the last batch's base + 1), and that batch arrives
    whole; no fixed idle timeout to wait out (it made each read take 3 s more)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(),
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=50,
        client_id="concord-cli",
    )
    try:
        consumer.topics()  # loads every topic's metadata
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not parts:
            return
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        while True:
            batch = consumer.poll(timeout_ms=200, max_records=5000)
            for tp in sorted(batch, key=lambda x: x.partition):
                yield from batch[tp]
            if not batch and all(consumer.position(tp) >= ends[tp] for tp in parts):
                return
    finally:
        consumer.close()


def audited(settings: Settings, action: str) -> set[str]:
    """The subjects of every `action` entry on `concord.audit` (what was done before)."""
    return {
        entry.subject
        for record in _everything(settings, t.AUDIT.name)
        if action.encode() in record.value
        for entry in AuditRecord.model_validate_json(record.value).entries
        if entry.action == action
    }


def replayed_already(settings: Settings) -> set[str]:
    """The dead letters replayed before (their `record.replayed` audit entries)."""
    return audited(settings, "record.replayed")


@dataclass
class Replay:
    """What `replay` did: the ids put back, and those left (why)."""

    replayed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def replayed_as(
    dead: DeadLetter, raw: bytes, directory: Callable[[], Directory]
) -> tuple[str, str | None, bytes]:
    """Where a dead letter goes back to: its topic and key, with its original bytes.

    The plan stage's letters written before 2026-12-07 hold the situation's snapshot
    (on `concord.situations`); put back there it would only show the board an old state.
    It goes as a `plan` command for that situation instead, as the stage writes them now."""
    if dead.stage != "plan" or dead.topic != t.SITUATIONS.name:
        return dead.topic, dead.key, raw
    try:
        situation = Situation.model_validate_json(raw)
    except ValueError:  # not a snapshot after all: back where it was
        return dead.topic, dead.key, raw
    command = plan_command(situation, dead.reason)
    zone = directory().zone(situation.area)
    return t.SITUATION_COMMANDS.name, zone, command.model_dump_json().encode()


def replay(
    settings: Settings,
    wanted: set[str] | None,
    actor: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
    force: bool = False,
) -> Replay:
    """Put dead letters' original bytes back on their topics, with their keys (`wanted`:
    these ids; None: all), once each: a replayed letter is skipped unless `force`. Each
    replay is audited (`record.replayed`, by `actor`). The stage that refused a record
    validates it again; if it fails again it is dead-lettered again, with a new id."""
    letters = [(i, d, raw) for i, d, raw in read_deadletters(settings, 10**9, True)]
    done = set() if force else replayed_already(settings)
    result = Replay()
    chosen = [(i, d, raw) for i, d, raw in letters if wanted is None or i in wanted]
    for missing in sorted((wanted or set()) - {i for i, _, _ in letters}):
        result.skipped[missing] = "no such dead letter"
    # Read only when a letter needs it (an older plan letter), and then once.
    directory = functools.cache(lambda: load_directory(settings.directory))
    producer = kafka_producer(settings)
    try:
        for n, (letter_id, dead, raw) in enumerate(chosen, start=1):
            if letter_id in done:
                result.skipped[letter_id] = "replayed before (--force to replay again)"
            elif raw is None:
                result.skipped[letter_id] = "the original could not be opened"
            else:
                topic, key_, raw = replayed_as(dead, raw, directory)
                key = key_.encode() if key_ is not None else None
                headers = [("concord-replay-of", letter_id.encode())]
                producer.send(topic, key=key, value=raw, headers=headers)
                entry = AuditEntry(
                    actor=actor,
                    action="record.replayed",
                    subject=letter_id,
                    via="cli",
                    details={"topic": dead.topic, "stage": dead.stage, "reason": dead.reason},
                )
                record = AuditRecord(entries=[entry]).model_dump_json().encode()
                producer.send(t.AUDIT.name, key=letter_id.encode(), value=record)
                result.replayed.append(letter_id)
            progress(n, len(chosen))
        producer.flush()
    finally:
        producer.close()
    return result
