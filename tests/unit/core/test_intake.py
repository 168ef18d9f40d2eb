"""Intake (concord.core.intake): parsing raw records and sealing persons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from concord.core import intake
from concord.core.refusal import Refused
from concord.privacy.keys import Erased, Sealer, SealError
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
    assert isinstance(refused, Refused)
    assert refused.reason == "invalid signal"
    assert {e["loc"] for e in refused.errors} == {"severity", "extra"}
    unknown = intake.parse(raw_signal(area="mars"), DIRECTORY)
    assert isinstance(unknown, Refused)
    assert unknown.reason == "unknown area"
    naive = intake.parse(raw_signal(occurred_at="2026-01-01T12:00:00"), DIRECTORY)
    assert isinstance(naive, Refused)
    assert naive.errors[0]["loc"] == "occurred_at"


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
    assert out.person_count == 1
    assert out.person_roles == ["victim"]
    assert "Omar" not in out.model_dump_json()
    assert "was hit" not in out.model_dump_json()
    # The contact is in the key only as a keyed digest (random hex may hold "555": the
    # number is checked whole, as written and as digits).
    for clear in ("Omar", "+32 2 555 01 01", "3225550101"):
        assert clear not in key.model_dump_json()
    keys = {key.id: key}
    opened = json.loads(s.open(out.sealed, keys))
    assert opened["persons"][0]["name"] == "Omar Haddad"
    assert opened["summary"] == "Omar Haddad was hit."
    assert opened["source"] == "N"
    assert s.open(out.summary_sealed, keys) == b"[victim] was hit."
    assert key.subject == "x1"
    assert key.contacts == [s.contact_digest("+3225550101")]
    with pytest.raises(Erased):  # one key: its tombstone erases the scrubbed text too
        s.open(out.summary_sealed, {})
    with pytest.raises(SealError):
        sealer().open(out.sealed, keys)
    with pytest.raises(Erased):  # its key tombstoned: nothing opens it, with any master key
        s.open(out.sealed, {})
    assert "key" not in repr(s).replace("key hidden", "")


def test_a_signal_that_names_nobody_is_sealed_all_the_same() -> None:
    """Free text is personal data until proven otherwise: no person, still sealed."""
    s = sealer()
    parsed = intake.parse(raw_signal(summary="Call Ignatius on 0471/23.45.67"), DIRECTORY)
    assert not isinstance(parsed, Refused)
    out, key = intake.seal(parsed, s, NOW, intake.plain_words(DIRECTORY))
    assert "Ignatius" not in out.model_dump_json()
    assert "0471" not in out.model_dump_json()
    assert s.open(out.summary_sealed, {key.id: key}) == b"Call [name] on [phone]"


def test_contacts_of_a_refused_record_are_found() -> None:
    raw = raw_signal(persons=[{"role": "victim", "contact": "a@b.example"}], contact="0471 23")
    assert sorted(intake.contacts_of(raw)) == ["0471 23", "a@b.example"]
    assert intake.contacts_of(b"\xff not json") == []
    assert intake.contacts_of(b"[1]") == []


def test_the_directory_names_are_plain_words_not_persons() -> None:
    from concord.core.intake import plain_words
    from tests.unit.factories import DIRECTORY

    words = {w.lower() for w in plain_words(DIRECTORY)}
    assert {"nord", "north"} & words


def test_files_and_the_link_seen_online_are_sealed_under_the_signal_key() -> None:
    """What a reporter gave travels as ids, digests and types only; the bytes and the
    URL are sealed under the signal's one key, so its tombstone erases them too."""
    from concord.core.evidence import Kept

    s = sealer()
    parsed = intake.parse(
        raw_signal(
            category="online_hate",
            online={"url": "https://social.example/p/123", "platform": "Social"},
            wants="act",
            indicators=["language", "language", "perception"],
        ),
        DIRECTORY,
    )
    assert not isinstance(parsed, Refused)
    files = [Kept("text/plain", b"screenshot transcript"), Kept("application/pdf", b"%PDF-1.4")]
    made = intake.admission(parsed, s, NOW, (), files, referred_to="equality-body")
    out, key = made.signal, made.key
    assert [(e.type, e.size) for e in out.evidence] == [("text/plain", 21), ("application/pdf", 8)]
    assert [e.id for e in out.evidence] == [blob_id for blob_id, _ in made.blobs]
    assert out.indicators == ["language", "perception"]
    assert out.referred_to == "equality-body"
    assert "social.example" not in out.model_dump_json()
    keys = {key.id: key}
    assert json.loads(s.open(out.sealed, keys))["online"]["url"] == "https://social.example/p/123"
    for (_, sealed), kept in zip(made.blobs, files, strict=True):
        assert kept.data not in sealed
        assert s.open(sealed.decode(), keys) == kept.data
        with pytest.raises(Erased):
            s.open(sealed.decode(), {})
