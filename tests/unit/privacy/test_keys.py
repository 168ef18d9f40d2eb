"""Keys (concord.keys): created once, private; a ring that rotates; contacts hashed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from concord.config.errors import ConfigError
from concord.config.settings import Settings
from concord.privacy import keys
from concord.privacy.keys import (
    Sealer,
    SealError,
    ensure_keys,
    fingerprint,
    key_id,
    new_master_key,
    normal_contact,
)


def test_keys_are_created_once_with_private_mode(tmp_path: Path) -> None:
    s = ensure_keys(Settings(data_dir=tmp_path))
    again = ensure_keys(Settings(data_dir=tmp_path))
    assert isinstance(s.data_key, SecretStr)
    assert s.data_key == again.data_key
    assert (tmp_path / "keys" / "data_key").stat().st_mode & 0o777 == 0o600


def ring(*keys: str) -> SecretStr:
    return SecretStr(",".join(keys))


def test_a_ring_rotates_without_losing_a_value_and_the_old_key_then_opens_nothing() -> None:
    old, new = new_master_key(), new_master_key()
    before = Sealer(ring(old))
    made = before.seal("s1", b"Amina Benali", ["amina@example.org"])
    during = Sealer(ring(new, old))  # the workers' ring while rotating: NEW first
    assert during.open(made.value, {made.key.id: made.key}) == b"Amina Benali"
    moved = during.rewrap(made.key)
    assert moved is not None
    assert moved.kek == fingerprint(new)
    assert moved.id == made.key.id
    assert during.rewrap(moved) is None  # already under NEW
    after = Sealer(ring(new))  # OLD dropped
    assert after.open(made.value, {moved.id: moved}) == b"Amina Benali"
    with pytest.raises(SealError):
        after.open(made.value, {made.key.id: made.key})  # the old wrapping: OLD is gone
    with pytest.raises(SealError, match="not in the ring"):
        after.rewrap(made.key)


def test_a_bad_ring_is_one_clear_error() -> None:
    for bad in ("", "short", f"{new_master_key()},nope"):
        with pytest.raises(ConfigError, match="CONCORD_DATA_KEY"):
            Sealer(SecretStr(bad))


def test_a_ring_read_from_its_file_takes_up_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_master_key(), new_master_key()
    path = tmp_path / "data_key"
    path.write_text(old)
    sealer = Sealer(SecretStr(old), source=path)
    monkeypatch.setattr(keys, "RELOAD_SECONDS", 0.0)
    path.write_text(f"{new},{old}")
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime even on coarse clocks
    assert sealer.primary == fingerprint(new)
    path.write_text(new_master_key())  # not a rotation of this ring: ignored
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert sealer.primary == fingerprint(new)


def test_contacts_are_indexed_as_keyed_hashes_of_their_normal_form() -> None:
    secret = SecretStr("s" * 32)
    sealer = Sealer(SecretStr(new_master_key()), secret)
    assert sealer.contact_digest("+32 470 12 34 56") == sealer.contact_digest("+32470123456")
    assert sealer.contact_digest(" Tom@Example.org ") == sealer.contact_digest("tom@example.org")
    assert sealer.contact_digest("tom@example.org") != sealer.contact_digest("ana@example.org")
    other = Sealer(SecretStr(new_master_key()), SecretStr("t" * 32))
    assert other.contact_digest("tom@example.org") != sealer.contact_digest("tom@example.org")
    assert normal_contact("+32 (0)2 555") == "+3202555"  # not a possible number: its digits


@pytest.mark.parametrize(
    ("spelled", "region", "normal"),
    [
        ("+32 471 23 45 67", "BE", "+32471234567"),
        ("0471 23 45 67", "BE", "+32471234567"),
        ("0471/23.45.67", "BE", "+32471234567"),
        ("0032 471 23 45 67", "BE", "+32471234567"),
        ("471234567", "BE", "+32471234567"),
        ("02 555 01 01", "BE", "+3225550101"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "BE", "+33612345678"),
        (" Tom@Example.ORG ", "BE", "tom@example.org"),
    ],
)
def test_a_phone_number_is_one_number_however_it_is_written(
    spelled: str, region: str, normal: str
) -> None:
    assert normal_contact(spelled, region) == normal
    sealer = Sealer(SecretStr(new_master_key()), SecretStr("s" * 32), region=region)
    assert sealer.contact_digest(spelled) == sealer.contact_digest(normal)
    made = sealer.seal("s1", b"x", ["tom@example.org", " "])
    assert made.key.contacts == [sealer.contact_digest("tom@example.org")]
    assert "example" not in made.key.model_dump_json()
    assert key_id(made.value) == made.key.id


def test_a_value_sealed_before_keys_moved_to_their_topic_still_opens() -> None:
    kek = new_master_key()
    dek = Fernet.generate_key()
    legacy = (
        f"v1.{Fernet(kek.encode()).encrypt(dek).decode()}.{Fernet(dek).encrypt(b'old').decode()}"
    )
    assert Sealer(SecretStr(kek)).open(legacy, {}) == b"old"
    assert key_id(legacy) is None
