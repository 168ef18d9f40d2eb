"""Intake (concord.core.intake): parsing raw records and sealing persons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from concord.core import intake
from concord.core.refusal import Refused
from concord.keys import Erased, Sealer, SealError
from tests.unit.factories import DIRECTORY

NOW = datetime(2026, 1, 1, 13, tzinfo=UTC)


def sealer() -> Sealer:
    return Sealer(SecretStr(Fernet.generate_key().decode()))


def raw_signal(**kw: object) -> bytes:
    base = {
        "id": "x1",
        "kind": "incident",
        "category": "hate_crime",
        "severity": 3,
        "occurred_at": "2026-01-01T12:00:00Z",
        "area": "north",
        "source": {"type": "ngo", "name": "N"},
        "summary": "Omar Haddad was hit.",
    }
    base.update(kw)
    return json.dumps(base).encode()


def test_parse_refuses_with_reasons() -> None:
    assert intake.parse(b"\xff", DIRECTORY).reason == "not JSON"  # type: ignore[union-attr]
    refused = intake.parse(raw_signal(severity=6, extra=1), DIRECTORY)
    assert isinstance(refused, Refused) and refused.reason == "invalid signal"
    assert {e["loc"] for e in refused.errors} == {"severity", "extra"}
    unknown = intake.parse(raw_signal(area="mars"), DIRECTORY)
    assert isinstance(unknown, Refused) and unknown.reason == "unknown area"
    naive = intake.parse(raw_signal(occurred_at="2026-01-01T12:00:00"), DIRECTORY)
    assert isinstance(naive, Refused) and naive.errors[0]["loc"] == "occurred_at"


def test_seal_keeps_persons_encrypted_and_scrubs_summary() -> None:
    s = sealer()
    parsed = intake.parse(
        raw_signal(
            persons=[
                {
                    "role": "victim",
                    "name": "Omar Haddad",
                    "contact": "+32 2 555 01 01",
                    "consent_to_share": True,
                }
            ]
        ),
        DIRECTORY,
    )
    assert not isinstance(parsed, Refused)
    out, key = intake.seal(parsed, s, NOW)
    assert out.summary == "[victim] was hit."
    assert out.person_count == 1 and out.person_roles == ["victim"]
    assert "Omar" not in out.model_dump_json() and key is not None
    assert "Omar" not in key.model_dump_json() and "555" not in key.model_dump_json()
    keys = {key.id: key}
    opened = json.loads(s.open(out.persons_sealed or "", keys))
    assert opened["persons"][0]["name"] == "Omar Haddad"
    assert opened["summary"] == "Omar Haddad was hit."
    assert key.subject == "x1" and key.contacts == [s.contact_digest("+3225550101")]
    with pytest.raises(SealError):
        sealer().open(out.persons_sealed or "", keys)
    with pytest.raises(Erased):  # its key tombstoned: nothing opens it, with any master key
        s.open(out.persons_sealed or "", {})
    assert "key" not in repr(s).replace("key hidden", "")
