"""The read model's latest values (concord.web.readmodel.Latest): kept as bytes, decoded
when read, and only the latest reads stay decoded."""

from __future__ import annotations

import pytest

from concord.streams.access import SessionMark
from concord.web.readmodel import Latest


def mark(i: int) -> bytes:
    return SessionMark(id=f"s{i}", kind="revoked", person="p").model_dump_json().encode()


def test_values_are_decoded_when_read_and_a_new_record_replaces_the_decoded_one() -> None:
    latest: Latest[SessionMark] = Latest(SessionMark)
    latest.put("a", mark(1))
    assert latest["a"].id == "s1"
    latest.put("a", mark(2))
    assert latest["a"].id == "s2"
    latest.put("a", None)
    with pytest.raises(KeyError):
        latest["a"]


def test_only_the_latest_reads_stay_decoded_and_a_scan_keeps_nothing_more() -> None:
    latest: Latest[SessionMark] = Latest(SessionMark)
    latest.CACHED = 10
    for i in range(100):
        latest.put(f"k{i}", mark(i))
    for i in range(20):
        assert latest[f"k{i}"].id == f"s{i}"
    assert sorted(latest._decoded) == sorted(f"k{i}" for i in range(10, 20))
    kept = dict(latest._decoded)
    assert [m.id for m in latest.values()] == [f"s{i}" for i in range(100)]
    assert latest._decoded == kept  # the scan used them and added none
    assert latest["k3"].id == "s3"  # read again: decoded again
