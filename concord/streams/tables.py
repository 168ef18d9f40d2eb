"""`Table[V]`: the typed seam around a Faust table.

A stage's state lives in Faust tables (in memory or RocksDB, backed by a compacted
changelog topic). Keys are `str`: Faust recovers bytes keys from the changelog silently
wrong. Values are stored as JSON (a model's `model_dump(mode="json")`, or a JSON
scalar) and come back as the table's type: no stage reads an untyped dict.

Each table is created by the one stage that writes it (`docs/architecture.md` lists
them); nothing else holds a reference to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

V = TypeVar("V")


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as a JSON-able dict (a table value)."""
    return model.model_dump(mode="json")


class Table(Generic[V]):
    """A Faust table whose keys are `str` and whose values are `V` (a model or a scalar)."""

    def __init__(
        self,
        app: Any,
        name: str,
        kind: type[V],
        partitions: int,
        *,
        use_partitioner: bool = False,
        help: str = "",
    ) -> None:
        self.name = name
        # use_partitioner: the table is written outside the agent's own event (from a
        # lane's task), so Faust must pick the changelog partition from the key.
        self.faust = app.Table(
            name,
            default=None,
            partitions=partitions,
            use_partitioner=use_partitioner,
            help=help,
        )
        self._decode: Callable[[Any], V]
        self._encode: Callable[[V], Any]
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            model = cast(type[BaseModel], kind)
            self._decode = cast(Callable[[Any], V], model.model_validate)
            self._encode = cast(Callable[[V], Any], dump)
        else:
            self._decode = cast(Callable[[Any], V], kind)
            self._encode = _same

    def get(self, key: str) -> V | None:
        """The value of `key`, or None."""
        stored = self.faust.get(_key(key))
        return None if stored is None else self._decode(stored)

    def __setitem__(self, key: str, value: V) -> None:
        self.faust[_key(key)] = self._encode(value)

    def __contains__(self, key: str) -> bool:
        return self.faust.get(_key(key)) is not None

    def pop(self, key: str) -> None:
        """Remove `key` (a tombstone on the changelog)."""
        self.faust.pop(_key(key), None)

    def items(self) -> Iterator[tuple[str, V]]:
        """Every entry, decoded (a copy: the table may change while the caller awaits)."""
        for key, stored in list(self.faust.items()):
            if stored is not None:
                yield key, self._decode(stored)

    def stored(self) -> Iterator[tuple[str, Any]]:
        """Every entry as stored (JSON), for scans that read a field or two of many
        entries each second (deadlines) and would spend most of their time decoding."""
        for key, stored in list(self.faust.items()):
            if stored is not None:
                yield key, stored


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"table keys are str, not {type(key).__name__}")
    return key


def _same(value: Any) -> Any:
    return value
