"""Settings, directory validation, and the production docker-compose file's shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from concord.directory import DirectoryError, load_directory
from concord.keys import ensure_keys
from concord.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


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
    assert s.web_port == 7100 and s.broker == "kafka://a:1"
    assert "xoxb-s3cret" not in repr(s) and "xoxb-s3cret" not in str(s.model_dump())
    assert s.bootstrap_servers() == ["a:1"]


def test_broker_file_is_used_when_no_env(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, broker=None)
    assert s.resolved_broker() is None
    (tmp_path / "broker").write_text("kafka://127.0.0.1:9999\n")
    assert s.bootstrap_servers() == ["127.0.0.1:9999"]


def test_keys_are_created_once_with_private_mode(tmp_path: Path) -> None:
    s = ensure_keys(Settings(data_dir=tmp_path))
    again = ensure_keys(Settings(data_dir=tmp_path))
    assert isinstance(s.data_key, SecretStr) and s.data_key == again.data_key
    assert (tmp_path / "keys" / "data_key").stat().st_mode & 0o777 == 0o600


def test_directory_errors_have_positions(tmp_path: Path) -> None:
    bad = tmp_path / "d.yml"
    bad.write_text(
        "city: {name: X, timezone: Mars/Olympus}\nareas:\n  - {code: a, name: A, neighbours: [z]}\n"
        "agencies:\n  - id: p\n    name: P\n    role: police\n    liaisons:\n"
        "      - {id: l, name: L, email: not-an-email}\n"
    )
    with pytest.raises(DirectoryError) as exc:
        load_directory(bad)
    text = str(exc.value)
    assert f"{bad}:1:7: city: Value error, unknown time zone 'Mars/Olympus'" in text
    assert f"{bad}:9:33: agencies.0.liaisons.0.email:" in text


def test_example_directory_loads() -> None:
    d = load_directory(ROOT / "directory.yml")
    assert d.on_duty("police") is not None and d.areas_in("city") == {"north", "centre", "south"}


def test_docker_compose_is_the_production_shape() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka")
    env = kafka["environment"]
    assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
    workers = [
        s for s in services.values() if s.get("command", [None])[0:2] == ["concord", "worker"]
    ]
    assert len(workers) == 2
    for w in workers:
        assert w["environment"]["CONCORD_BROKER"] == "kafka://kafka:9092"
        assert w["environment"]["CONCORD_STORE"] == "rocksdb://"
        assert "kafka" in w["depends_on"]
        for secret in ("CONCORD_DATA_KEY", "CONCORD_SECRET_KEY"):
            assert w["environment"][secret].startswith("${")  # from the operator, never in git
