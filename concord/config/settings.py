"""Concord's settings: environment variables `CONCORD_*`, or a `concord.toml` beside you.

Every key of the public contract (docs/configuration.md) is here; the tuning keys below them have
defaults that suit a production cluster, and `embedded()` returns the values that suit
the embedded Tansu broker (short session timeouts, memory store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from concord.config.errors import ConfigError


class Settings(BaseSettings):
    """All of Concord's configuration, validated where it enters."""

    model_config = SettingsConfigDict(
        env_prefix="CONCORD_", toml_file="concord.toml", extra="ignore", frozen=True
    )

    broker: str | None = Field(
        None, description="kafka://host:port,... ; unset: the embedded broker of `concord up`"
    )
    playbooks: Path = Field(Path("playbooks"), description="directory of YAML playbooks")
    directory: Path = Field(Path("directory.yml"), description="agency directory file")
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=0, le=65535)
    data_dir: Path = Field(Path(".concord"), description="keys, broker address, table store")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "concord@localhost"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_signing_secret: SecretStr | None = None
    matrix_homeserver: str | None = Field(
        None, description="the city's Matrix homeserver (https://matrix.example.org)"
    )
    matrix_token: SecretStr | None = Field(None, description="the Concord bot's access token")
    channel_standin_url: str | None = Field(
        None,
        description="concord up: a local stand-in for chat webhooks and subscribers whose "
        "address is not set (never set in production)",
    )
    evidence_store: str = Field(
        "",
        description="where report files are kept, sealed: s3://bucket/prefix, or unset for "
        "$CONCORD_DATA_DIR/evidence",
    )
    s3_endpoint_url: str | None = Field(
        None, description="an S3-compatible store's address (unset: AWS's own)"
    )
    inbound_domain: str | None = Field(
        None,
        description="the mail domain whose `task+...` addresses take replies to task emails "
        "(its MX points at `concord worker --inbound`); unset: no Reply-To",
    )
    inbound_host: str = Field("127.0.0.1", description="where the inbound SMTP server listens")
    inbound_port: int = Field(0, ge=0, le=65535, description="its port (0: no server here)")
    inbound_max_bytes: int = Field(
        26_214_400, ge=1024, description="the largest mail taken (552 past it)"
    )
    secret_key: SecretStr | None = Field(None, description="signs action links and sessions")
    data_key: SecretStr | None = Field(None, description="wraps the keys of personal data")
    public_url: str | None = Field(None, description="base of links in emails")
    retention_days: int = Field(
        180, ge=1, description="personal data is erased this many days after its situation closes"
    )
    unattached_retention_days: int = Field(
        30, ge=1, description="... and this many days after it arrived, if never in a situation"
    )
    raw_retention_hours: float = Field(
        24.0, gt=0, description="how long Kafka keeps concord.signals.in (raw, unsealed bytes)"
    )

    # Tuning (not part of the public contract, documented in docs/configuration.md).
    app_id: str = "concord"
    store: str = Field("rocksdb://", description="Faust table store: rocksdb:// or memory://")
    partitions: int = Field(
        4, ge=1, description="partitions of each topic Concord creates (`concord up`: 1 if unset)"
    )
    store_buffer_mb: float = Field(
        1.0,
        gt=0,
        description="RocksDB: memory for writes per table partition (two buffers this size)",
    )
    store_cache_mb: float = Field(1.0, gt=0, description="RocksDB: block cache per table partition")
    replication: int = Field(1, ge=1)
    session_timeout: float = Field(30.0, gt=0, description="consumer group session timeout, s")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest POST /api/signals body")
    max_batch: int = Field(500, ge=1, description="most signals in one POST")
    correlation_window_hours: float = Field(24.0, gt=0)
    playbooks_poll_seconds: float = Field(
        2.0, gt=0, description="how often a worker looks for changed playbooks"
    )
    tick_seconds: float = Field(
        5.0, gt=0, description="how often timers look for due deadlines (panel time limits)"
    )
    panel_amend_interval_seconds: float = Field(
        300.0,
        ge=0,
        description="the panel is told of signals that joined a situation under review "
        "at most once per this many seconds",
    )
    slack_channel_interval_seconds: float = Field(
        1.0, ge=0, description="least time between two messages to one Slack channel (0: off)"
    )
    slack_channel_burst: float = Field(3, ge=1, description="messages a Slack channel may burst")
    slack_workspace_rate: float = Field(
        20.0, ge=0, description="most Slack messages a second for the workspace (0: off)"
    )
    delivery_concurrency: int = Field(
        8, ge=1, description="messages in flight at once per carrier (and per unpaced lane)"
    )
    delivery_horizon_hours: float = Field(
        24.0, gt=0, description="how long a notice is retried before it falls back or fails"
    )
    broker_ack_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="longest a request waits for the broker's ack before answering 503",
    )
    fetch_wait_ms: int = Field(
        30, ge=1, le=1500, description="longest a consumer's fetch waits for data (ms)"
    )
    retry_base_seconds: float = Field(1.0, ge=0, description="first backoff, doubled each time")
    retry_cap_seconds: float = Field(30.0, gt=0, description="longest wait between attempts")
    report_limit: int = Field(
        10, ge=1, description="public reports one client may send per report window"
    )
    report_window_seconds: float = Field(600.0, gt=0, description="the report limit's window")
    watchdog_seconds: float = Field(
        120.0, gt=0, description="a partition with records waiting and no progress this long"
    )
    watchdog_exit: bool = Field(
        True, description="exit non-zero once stalled twice that long (the supervisor restarts)"
    )
    archive: bool = Field(
        True,
        description="`concord up`: keep a durable copy of the embedded broker on disk "
        "(false: memory only, everything is gone at the next start)",
    )
    broker_wait_seconds: float = Field(
        120.0, ge=0, description="how long `concord worker` waits for its broker at start"
    )
    retention_check_seconds: float = Field(
        3600.0, gt=0, description="how often the leader looks for personal data due to go"
    )
    batch_most: int = Field(256, ge=1, description="the most records a stage takes as one batch")
    batch_within_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="how long a stage gathers records after the first of a batch came (the "
        "latency each stage may add; 0: only what is already waiting)",
    )
    fault_stall_stage: str = Field("", description="drills only: a stage that stops")
    fault_crash_stage: str = Field(
        "", description="drills only: the worker dies one record into a batch of this stage"
    )
    log_level: str = "info"
    trace: bool = Field(
        False,
        description="log, per partition, assignment, table recovery (end offsets, each "
        "changelog record read), commits, and the delivery stage's take-up (docs/deploy.md)",
    )

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        return v if v.endswith("/") else v + "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Where settings come from, first wins: arguments, environment, `concord.toml`."""
        # Environment wins over concord.toml, as operators expect.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def with_(self, **changes: Any) -> Settings:
        """A copy with some values changed (settings are frozen)."""
        return self.model_copy(update=changes)

    @property
    def broker_file(self) -> Path:
        """Where `concord up` writes the embedded broker's address."""
        return self.data_dir / "broker"

    def resolved_broker(self) -> str | None:
        """`CONCORD_BROKER`, else the address a running `concord up` wrote, else None."""
        if self.broker:
            return self.broker
        if self.broker_file.exists():
            text = self.broker_file.read_text().strip()
            return text or None
        return None

    def bootstrap_servers(self) -> list[str]:
        """host:port list for kafka-python / aiokafka, from the resolved broker URL."""
        url = self.resolved_broker()
        if not url:
            raise ConfigError(
                "no broker: set CONCORD_BROKER, or start `concord up` in this directory"
            )
        hosts: list[str] = []
        for part in url.split(","):
            part = part.strip()
            hosts.append(part.split("://", 1)[1] if "://" in part else part)
        return hosts
