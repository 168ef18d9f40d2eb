"""What an error means to the person running `concord`, in one line with what to do."""

from __future__ import annotations

from pydantic import ValidationError

from concord.config.directory import DirectoryError
from concord.config.errors import ConfigError
from concord.streams.topics import BROKER_HINT


def explain(exc: BaseException) -> str:
    """One line: what went wrong, and what to do about it."""
    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, DirectoryError):
        first = exc.problems[0] if exc.problems else "?"
        return f"the directory does not load ({len(exc.problems)} problem(s), the first: {first})"
    if isinstance(exc, ValidationError):
        e = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in e["loc"])
        return f"setting {where}: {e['msg']} (CONCORD_{where.upper()} or concord.toml)"
    kafka = _kafka(exc)
    if kafka is not None:
        return kafka
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"not allowed to read or write {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}{f': {exc.filename}' if exc.filename else ''}"
    return f"{type(exc).__name__}: {exc} (--debug shows where)"


def _kafka(exc: BaseException) -> str | None:
    from kafka.errors import KafkaError

    if isinstance(exc, KafkaError) and "bootstrap" in str(exc).lower():
        return f"no Kafka broker answers: {BROKER_HINT}"
    if isinstance(exc, KafkaError):
        return f"Kafka: {exc}: {BROKER_HINT}"
    return None
