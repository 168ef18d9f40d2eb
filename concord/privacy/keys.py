"""Secrets of a Concord installation and the envelope encryption of personal data.

`persons` (victims, witnesses, reporters) is sealed right after intake: each value gets
its own data key (Fernet). The sealed value names its key (`v2.<key id>.<ciphertext>`);
the key itself travels on `concord.keys`, wrapped by the installation's master key,
`CONCORD_DATA_KEY`. Only ciphertext travels through Kafka after intake, and a tombstone
for the key erases the value wherever it was copied (crypto-shredding).

`CONCORD_DATA_KEY` is a key ring: `NEW,OLD,...`. The first key wraps new data keys; every
key of the ring unwraps. `concord keys rotate` re-wraps the data keys under the first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from concord.config.errors import ConfigError
from concord.config.settings import Settings
from concord.streams.keys import DataKey

log = logging.getLogger(__name__)

SEAL_PREFIX = "v2"
#: Where a phone number without a country code is read, unless the directory says
#: (`city.region`).
DEFAULT_REGION = "BE"
#: Values sealed before data keys moved to `concord.keys` carry their wrapped key inline;
#: they are still opened, but only a key rotation and re-sealing could shred them.
LEGACY_PREFIX = "v1"
#: How often a ring read from a file looks at the file again (`concord keys rotate` on a
#: single machine writes the new ring there; the worker picks it up without a restart).
RELOAD_SECONDS = 2.0
KEY_HINT = (
    "CONCORD_DATA_KEY must be one or more comma-separated keys of 32 url-safe "
    "base64-encoded bytes (concord keys new prints one)"
)


class SealError(Exception):
    """A sealed value could not be opened (wrong key or tampered)."""


class Erased(SealError):
    """The value's data key is gone: the personal data was erased."""


def fingerprint(key: str) -> str:
    """A master key's public name: 12 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def parse_ring(text: str) -> list[str]:
    """The keys of a ring (`NEW,OLD`), checked; raises ConfigError."""
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise ConfigError(KEY_HINT)
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ConfigError(KEY_HINT) from exc
    return keys


def new_master_key() -> str:
    """A new master key (Fernet), for `CONCORD_DATA_KEY`."""
    return Fernet.generate_key().decode()


def normal_contact(contact: str, region: str = DEFAULT_REGION) -> str:
    """A contact as the index knows it: an e-mail address lower-cased; a phone number in
    E.164 (`+32471234567`), read in `region` when it has no country code, so that
    `0471 23 45 67`, `0032 471 23 45 67`, `471234567` and `+32 471 23 45 67` are one
    number; anything else as its digits, or lower-cased."""
    value = contact.strip()
    if "@" in value:
        return value.lower()
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = re.sub(r"[^0-9+]", "", value)
    return digits if len(re.sub(r"\D", "", digits)) >= 4 else value.lower()


@dataclass(frozen=True)
class Sealed:
    """A sealed value and the data key to put on `concord.keys` before it."""

    value: str
    key: DataKey


class Sealer:
    """Envelope encryption: a fresh data key per value, wrapped by the ring's first key.

    `contact_key` keys the hashes of contacts (access requests); `source`: the file the
    ring was read from, looked at again every `RELOAD_SECONDS`."""

    def __init__(
        self,
        data_key: SecretStr,
        contact_key: SecretStr | None = None,
        source: Path | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        self._source = source
        self._region = region
        self._checked = time.monotonic()
        self._mtime = source.stat().st_mtime if source and source.exists() else 0.0
        self._set(parse_ring(data_key.get_secret_value()))
        secret = (contact_key or data_key).get_secret_value()
        # Its own key, derived: the index never reveals anything about the master key.
        self._contact_key = hmac.new(secret.encode(), b"concord contact index", "sha256").digest()

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

    def _set(self, keys: list[str]) -> None:
        self._keys = {fingerprint(k): Fernet(k.encode()) for k in keys}
        self._primary = fingerprint(keys[0])
        self._ring = MultiFernet(list(self._keys.values()))

    def _refresh(self) -> None:
        if self._source is None or time.monotonic() - self._checked < RELOAD_SECONDS:
            return
        self._checked = time.monotonic()
        try:
            mtime = self._source.stat().st_mtime
            if mtime == self._mtime:
                return
            keys = parse_ring(self._source.read_text())
        except (OSError, ConfigError):
            log.error("data key file %s cannot be read: keeping the keys in use", self._source)
            return
        # Only a rotation of this ring (the key in use is still in it) is taken up.
        if self._primary in {fingerprint(k) for k in keys}:
            self._set(keys)
            log.warning("data key ring reloaded from %s", self._source)
        self._mtime = mtime

    @property
    def primary(self) -> str:
        """The fingerprint of the key that wraps new data keys."""
        self._refresh()
        return self._primary

    def knows(self, kek: str) -> bool:
        """Whether this ring holds the key that wrapped a data key."""
        self._refresh()
        return kek in self._keys

    def seal(self, subject: str, plaintext: bytes, contacts: Iterable[str] = ()) -> Sealed:
        """Encrypt with a fresh data key; return the value and its wrapped key."""
        values, key = self.seal_many(subject, [plaintext], contacts)
        return Sealed(values[0], key)

    def seal_many(
        self, subject: str, plaintexts: list[bytes], contacts: Iterable[str] = ()
    ) -> tuple[list[str], DataKey]:
        """Encrypt several values of one subject under one fresh data key, so that
        deleting that key erases all of them at once."""
        self._refresh()
        dek = Fernet.generate_key()
        key = DataKey(
            id=secrets.token_urlsafe(16),
            subject=subject,
            wrapped=self._keys[self._primary].encrypt(dek).decode(),
            kek=self._primary,
            contacts=sorted({self.contact_digest(c) for c in contacts if c.strip()}),
        )
        fernet = Fernet(dek)
        return [f"{SEAL_PREFIX}.{key.id}.{fernet.encrypt(p).decode()}" for p in plaintexts], key

    def open(self, sealed: str, keys: Mapping[str, DataKey]) -> bytes:
        """Decrypt a value made by `seal`, its data key taken from `keys`.

        Raises Erased when the key is not there (tombstoned), SealError otherwise."""
        self._refresh()
        try:
            if sealed.startswith(LEGACY_PREFIX + "."):
                _, wrapped, body = sealed.split(".")
                return Fernet(self._ring.decrypt(wrapped.encode())).decrypt(body.encode())
            prefix, rest = sealed.split(".", 1)
            key_id, body = rest.rsplit(".", 1)
            if prefix != SEAL_PREFIX:
                raise SealError(f"unknown seal version {prefix!r}")
        except ValueError as exc:
            raise SealError("not a sealed value") from exc
        key = keys.get(key_id)
        if key is None:
            raise Erased(f"data key {key_id} is gone: the personal data was erased")
        try:
            return Fernet(self._ring.decrypt(key.wrapped.encode())).decrypt(body.encode())
        except (ValueError, InvalidToken) as exc:
            raise SealError("sealed value cannot be opened with this data key") from exc

    def rewrap(self, key: DataKey) -> DataKey | None:
        """The key wrapped by the ring's first key (None: it is already)."""
        self._refresh()
        if key.kek == self._primary:
            return None
        if key.kek not in self._keys:
            raise SealError(f"data key {key.id} is wrapped by {key.kek}, not in the ring")
        try:
            wrapped = self._ring.rotate(key.wrapped.encode()).decode()
        except InvalidToken as exc:
            raise SealError(f"data key {key.id} cannot be unwrapped") from exc
        return key.model_copy(update={"wrapped": wrapped, "kek": self._primary})

    def contact_digest(self, contact: str) -> str:
        """The keyed hash the access-request index keeps of a contact (never the contact)."""
        message = normal_contact(contact, self._region).encode()
        return hmac.new(self._contact_key, message, "sha256").hexdigest()


def key_id(sealed: str) -> str | None:
    """The data key a sealed value names (None: a legacy value, or not sealed)."""
    prefix, _, rest = sealed.partition(".")
    return rest.rsplit(".", 1)[0] if prefix == SEAL_PREFIX and "." in rest else None


def latest_keys(records: Iterable[tuple[str, bytes | None]]) -> dict[str, DataKey]:
    """The live data keys of `concord.keys` records in order (a tombstone deletes)."""
    out: dict[str, DataKey] = {}
    for key, value in records:
        if value is None:
            out.pop(key, None)
        else:
            out[key] = DataKey.model_validate_json(value)
    return out


def ring_file(settings: Settings) -> Path:
    """The key ring file of `concord up` (`$CONCORD_DATA_DIR/keys/data_key`)."""
    return settings.data_dir / "keys" / "data_key"


def _load_or_create(path: Path, make: str) -> SecretStr:
    if path.exists():
        return SecretStr(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(make)
    return SecretStr(make)


def ensure_keys(settings: Settings, *, warn: bool = False) -> Settings:
    """Settings with `secret_key` and `data_key` set.

    Unset keys are read from, or created in, `$CONCORD_DATA_DIR/keys/` (mode 0600). Several
    workers on several hosts must share the same keys: set them in the environment there.
    """
    changes: dict[str, SecretStr] = {}
    keydir = settings.data_dir / "keys"
    if settings.data_key is None:
        changes["data_key"] = _load_or_create(keydir / "data_key", Fernet.generate_key().decode())
    if settings.secret_key is None:
        changes["secret_key"] = _load_or_create(keydir / "secret_key", secrets.token_urlsafe(32))
    if changes and warn:
        log.warning(
            "%s not set: using keys from %s; every worker of a cluster must share them",
            " and ".join(f"CONCORD_{k.upper()}" for k in changes),
            keydir,
        )
    return settings.with_(**changes) if changes else settings


def sealer_for(settings: Settings, region: str = DEFAULT_REGION) -> Sealer:
    """The installation's sealer: the ring from `CONCORD_DATA_KEY`, or else from the key
    file (created if missing, and watched for a rotation); contacts keyed by the secret
    key, phone numbers read in `region` (the directory's `city.region`)."""
    source = None if settings.data_key is not None else ring_file(settings)
    keyed = ensure_keys(settings)
    assert keyed.data_key is not None
    return Sealer(keyed.data_key, keyed.secret_key, source, region)
