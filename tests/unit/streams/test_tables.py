"""The typed table seam (concord.streams.tables): JSON bytes in, the table's type out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest

from concord.config.settings import Settings
from concord.streams.delivery import DeliveryRecord
from concord.streams.tables import Shape, Table

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


class Store(dict[str, Any]):
    """A Faust table stand-in that counts writes (each is a changelog record)."""

    writes = 0

    def __init__(self) -> None:
        super().__init__()
        self.recovered: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)

    def on_recover(self, fun: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.recovered.append(fun)

    def recover(self, key: str, value: bytes) -> None:
        """What Faust's recovery does: the changelog's value straight into the store,
        then the table's recovery callbacks."""
        super().__setitem__(key, value)
        for fun in self.recovered:
            asyncio.run(fun())


class App:
    """What `Table` asks of a Faust app."""

    def __init__(self) -> None:
        self.made: dict[str, Any] = {}
        self.store = Store()
        self.consumer_generation_id = 1

    def Table(self, name: str, **kwargs: Any) -> Store:
        self.made = kwargs
        return self.store


def record(state: str = "pending") -> DeliveryRecord:
    return DeliveryRecord(
        key="k",
        kind="task",
        subject="t1",
        recipient="police-duty",
        channels=["slack"],
        state=state,
        deadline=T0,
        created_at=T0,
        updated_at=T0,
    )


def test_values_are_kept_as_json_bytes_and_come_back_typed() -> None:
    app = App()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    table["k"] = record()
    assert app.made["value_type"] is bytes  # Faust's raw serializer: no second encoding
    assert isinstance(app.store["k"], bytes)
    assert json.loads(app.store["k"])["state"] == "pending"
    assert table.get("k") == record()
    assert table.get("other") is None
    assert "k" in table
    assert [key for key, _ in table.items()] == ["k"]


def test_a_write_that_does_not_change_the_value_is_not_written() -> None:
    app = App()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    table["k"] = record()
    table["k"] = record()
    assert app.store.writes == 1
    table["k"] = record("delivered")
    assert app.store.writes == 2


@pytest.mark.parametrize(("kind", "value"), [(str, "2026-05-04T09:00:00+00:00"), (int, 3)])
def test_scalar_tables_round_trip(kind: type[Any], value: Any) -> None:
    table: Table[Any] = Table(App(), "t", kind, Shape(4))
    table["a"] = value
    assert table.get("a") == value


def test_an_entry_written_by_fausts_json_serializer_still_reads() -> None:
    # Tables written before the values were kept as bytes: Faust's "json" serializer
    # wrote json.dumps of the model's dict; recovered with the raw serializer as bytes.
    app = App()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    app.store["k"] = json.dumps(record().model_dump(mode="json")).encode()
    assert table.get("k") == record()
    str_table: Table[str] = Table(app, "seen", str, Shape(4))
    app.store["s"] = json.dumps("2026-05-04").encode()
    assert str_table.get("s") == "2026-05-04"


def picker() -> tuple[list[str], Callable[[Any], str]]:
    parsed: list[str] = []

    def pick(stored: Any) -> str:
        parsed.append(stored["state"])
        return str(stored["state"])

    return parsed, pick


def test_a_projection_reads_the_table_once_then_only_what_the_table_wrote() -> None:
    app = App()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    table["a"] = record()
    table["b"] = record("delivered")
    parsed, pick = picker()
    assert dict(table.project("state", pick)) == {"a": "pending", "b": "delivered"}
    assert dict(table.project("state", pick)) == {"a": "pending", "b": "delivered"}
    assert parsed == ["pending", "delivered"]  # the second scan read nothing
    table["a"] = record("failed")
    table.pop("b")
    table["c"] = record()
    assert dict(table.project("state", pick)) == {"a": "failed", "c": "pending"}
    assert sorted(parsed[2:]) == ["failed", "pending"]  # only what was written


def test_what_a_recovery_or_a_rebalance_brings_is_read_whole_again() -> None:
    app = App()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    table["a"] = record()
    parsed, pick = picker()
    assert dict(table.project("state", pick)) == {"a": "pending"}
    # Recovery writes to the store, not through the table: the next scan reads it all.
    app.store.recover("r", record("delivered").model_dump_json().encode())
    assert dict(table.project("state", pick)) == {"a": "pending", "r": "delivered"}
    # A rebalance (a new generation) may take partitions away or bring some: read whole.
    del app.store["r"]
    app.consumer_generation_id = 2
    assert dict(table.project("state", pick)) == {"a": "pending"}
    assert parsed == ["pending", "pending", "delivered", "pending"]


class Read(bytes):
    """A value read from disk, counted while it is alive (CPython frees it at once)."""

    alive = 0
    most = 0

    def __new__(cls, value: bytes) -> Read:
        cls.alive += 1
        cls.most = max(cls.most, cls.alive)
        return super().__new__(cls, value)

    def __del__(self) -> None:
        type(self).alive -= 1


class StreamingDiskStore(Store):
    """Like RocksDB: a new object at each read, read one entry at a time."""

    def items(self) -> Any:
        for key, value in list(super().items()):
            yield key, None if value is None else Read(value)


def test_a_scan_from_disk_never_holds_the_whole_table_at_once() -> None:
    app = App()
    app.store = StreamingDiskStore()
    table = Table(app, "deliveries", DeliveryRecord, Shape(4))
    for i in range(200):
        table[f"k{i}"] = record("delivered" if i % 2 else "pending")
    Read.alive = Read.most = 0
    picked = list(table.project("state", lambda stored: str(stored["state"])))
    assert len(picked) == 200
    assert picked[:2] == [("k0", "pending"), ("k1", "delivered")]
    # A value or two at a time, not the table's 200: a copy of a large table's entries
    # at every tick was a worker's memory peak (1.5 GB at 100,000 open tasks).
    assert Read.most <= 2  # the one in hand, and the next being read
    assert Read.alive == 0


SHAPES = [
    # store, buffer MB, cache MB -> Faust store options
    ("memory://", 1.0, 1.0, {}),
    (
        "rocksdb://",
        1.0,
        1.0,
        {"write_buffer_size": 1 << 20, "max_write_buffer_number": 2, "block_cache_size": 1 << 20},
    ),
    (
        "rocksdb://",
        4.0,
        0.5,
        {"write_buffer_size": 4 << 20, "max_write_buffer_number": 2, "block_cache_size": 1 << 19},
    ),
]


@pytest.mark.parametrize(("store", "buffer", "cache", "options"), SHAPES)
def test_the_store_options_follow_the_settings(
    store: str, buffer: float, cache: float, options: dict[str, int]
) -> None:
    settings = Settings(
        _env_file=None,
        store=store,
        partitions=3,
        store_buffer_mb=buffer,
        store_cache_mb=cache,
    )
    shape = Shape.of(settings)
    assert (shape.partitions, dict(shape.options)) == (3, options)
    app = App()
    Table(app, "tasks", str, shape)
    assert app.made["partitions"] == 3
    assert app.made["options"] == options
    app.made["options"]["read_only"] = True  # Faust's store pops its keys from it
    assert "read_only" not in shape.options
