"""Settings (concord.settings): environment, concord.toml, the broker file."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.config.settings import Settings


def test_env_wins_over_toml_and_secrets_are_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("CONCORD_"):
            monkeypatch.delenv(key)
    (tmp_path / "concord.toml").write_text(
        'web_port = 7000\nbroker = "kafka://a:1"\nslack_token = "xoxb-s3cret"\n'
    )
    monkeypatch.setenv("CONCORD_WEB_PORT", "7100")
    s = Settings()
    assert s.web_port == 7100
    assert s.broker == "kafka://a:1"
    assert "xoxb-s3cret" not in repr(s)
    assert "xoxb-s3cret" not in str(s.model_dump())
    assert s.bootstrap_servers() == ["a:1"]


def test_broker_file_is_used_when_no_env(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, broker=None)
    assert s.resolved_broker() is None
    (tmp_path / "broker").write_text("kafka://127.0.0.1:9999\n")
    assert s.bootstrap_servers() == ["127.0.0.1:9999"]
