"""Secrets of a Concord installation and the envelope encryption of personal data.

`persons` (victims, witnesses, reporters) is sealed right after intake: each record gets
its own data key (Fernet), and that key is wrapped by the installation's key-encryption
key, `CONCORD_DATA_KEY`. Only ciphertext travels through Kafka after intake.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from concord.errors import ConfigError
from concord.settings import Settings

log = logging.getLogger(__name__)

SEAL_PREFIX = "v1"


class SealError(Exception):
    """A sealed value could not be opened (wrong key or tampered)."""


class Sealer:
    """Envelope encryption: a fresh data key per value, wrapped by the installation key."""

    def __init__(self, data_key: SecretStr) -> None:
        try:
            self._kek = Fernet(data_key.get_secret_value().encode())
        except ValueError as exc:
            raise ConfigError(
                "CONCORD_DATA_KEY must be 32 url-safe base64-encoded bytes "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

    def seal(self, plaintext: bytes) -> str:
        """Encrypt with a fresh data key; return `v1.<wrapped key>.<ciphertext>`."""
        dek = Fernet.generate_key()
        wrapped = self._kek.encrypt(dek).decode()
        body = Fernet(dek).encrypt(plaintext).decode()
        return f"{SEAL_PREFIX}.{wrapped}.{body}"

    def open(self, sealed: str) -> bytes:
        """Decrypt a value made by `seal`."""
        try:
            prefix, wrapped, body = sealed.split(".")
            if prefix != SEAL_PREFIX:
                raise SealError(f"unknown seal version {prefix!r}")
            dek = self._kek.decrypt(wrapped.encode())
            return Fernet(dek).decrypt(body.encode())
        except (ValueError, InvalidToken) as exc:
            raise SealError("sealed value cannot be opened with this data key") from exc


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
