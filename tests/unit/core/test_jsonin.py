"""concord.core.jsonin: strict JSON from outside (every body and raw record)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.core import jsonin


def test_plain_json_is_read() -> None:
    assert jsonin.loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert jsonin.loads('{"é": "ü"}'.encode()) == {"é": "ü"}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"severity": 1, "severity": 5}', "duplicate key 'severity'"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested more than 32 levels deep"),
        (b"[" * 40 + b"]" * 40, "nested more than 32 levels deep"),
        (b'{"n": ' + b"9" * 5_000 + b"}", "integer of 5000 digits"),
        (b'{"n": NaN}', "NaN is not a number JSON allows"),
        (b'{"n": -Infinity}', "-Infinity is not a number JSON allows"),
        (b'{"n": 1e999}', "out of range"),
        ('\ufeff{"a": 1}'.encode(), "BOM"),
        (b"{not json", "Expecting property name"),
        (b"", "Expecting value"),
    ],
)
def test_what_is_refused_and_why(raw: bytes, why: str) -> None:
    with pytest.raises(jsonin.JsonError, match=why):
        jsonin.loads(raw)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_value_or_a_json_error(raw: bytes) -> None:
    with contextlib.suppress(jsonin.JsonError):  # anything else fails the test
        jsonin.loads(raw)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**18), 10**18)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(JSON)
def test_what_json_dumps_writes_reads_back(value: object) -> None:
    assert jsonin.loads(json.dumps(value).encode()) == value
