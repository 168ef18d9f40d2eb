"""Keys (concord.keys): created once, private."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from concord.keys import ensure_keys
from concord.settings import Settings


def test_keys_are_created_once_with_private_mode(tmp_path: Path) -> None:
    s = ensure_keys(Settings(data_dir=tmp_path))
    again = ensure_keys(Settings(data_dir=tmp_path))
    assert isinstance(s.data_key, SecretStr) and s.data_key == again.data_key
    assert (tmp_path / "keys" / "data_key").stat().st_mode & 0o777 == 0o600
