"""docker-compose.yml has the production shape."""

from __future__ import annotations

import yaml

from tests.unit.factories import ROOT


def test_docker_compose_is_the_production_shape() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka")
    env = kafka["environment"]
    assert "broker" in env["KAFKA_PROCESS_ROLES"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"]
    workers = [
        s for s in services.values() if s.get("command", [None])[0:2] == ["concord", "worker"]
    ]
    assert len(workers) == 2
    assert "healthcheck" in kafka
    for w in workers:
        assert "/healthz" in " ".join(w["healthcheck"]["test"])  # 503 when stalled or cut off
        assert w["restart"] == "unless-stopped"  # the watchdog's exit brings a restart
        assert w["environment"]["CONCORD_PARTITIONS"].startswith("${CONCORD_PARTITIONS:-")
        assert w["environment"]["CONCORD_BROKER"] == "kafka://kafka:9092"
        assert w["environment"]["CONCORD_STORE"] == "rocksdb://"
        assert "kafka" in w["depends_on"]
        for secret in ("CONCORD_DATA_KEY", "CONCORD_SECRET_KEY"):
            assert w["environment"][secret].startswith("${")  # from the operator, never in git
