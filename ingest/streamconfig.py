"""Validated config sections of streaming ingest: `[kafka]`, `[syslog]` and the health keys of `[ingest]`.

Each section is a table in vigil.toml read through `Settings.section(name)`; unknown keys in `[ingest]`
are ignored because other capabilities (file ingest) keep their own keys there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.errors import ConfigError
from vigil.settings import Settings

_M = TypeVar("_M", bound=BaseModel)


class KafkaConfig(BaseModel):
    """`[kafka]`: broker, topic and batching for both the syslog producer and the consumer workers."""

    model_config = ConfigDict(extra="forbid")

    bootstrap: str | None = Field(None, description="HOST:PORT[,HOST:PORT...] of the brokers")
    topic: str = "vigil-raw"
    group: str = "vigil-ingest"
    message_mode: Literal["batch", "line"] = Field(
        "batch", description="producer: lines joined per message or one each"
    )
    lines_per_message: int = Field(100, ge=1, le=100_000)
    batch_lines: int = Field(50_000, ge=1, description="consumer: lines per partition batch before it is written")
    batch_seconds: float = Field(1.0, gt=0, description="consumer: oldest buffered line waits at most this long")
    max_message_bytes: int = Field(1 << 20, ge=1024, description="larger messages are rejected as oversized")
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    metrics_port: int | None = Field(None, description="serve /metrics here (consumer workers)")
    security_protocol: Literal["PLAINTEXT", "SSL"] = "PLAINTEXT"
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def servers(self) -> list[str]:
        """Bootstrap servers as a list."""
        return [s.strip() for s in (self.bootstrap or "").split(",") if s.strip()]


class SyslogConfig(BaseModel):
    """`[syslog]`: listener batching, spool and what to do with senders nobody configured."""

    model_config = ConfigDict(extra="forbid")

    listen: list[str] = Field(default_factory=list, description="udp://, tcp://, tls:// addresses")
    batch_lines: int = Field(50_000, ge=1)
    batch_seconds: float = Field(1.0, gt=0)
    spool_dir: Path | None = Field(None, description="default <data>/spool/syslog")
    segment_bytes: int = Field(64 << 20, ge=1024, description="a spool segment is rotated past this size")
    segment_seconds: float = Field(300.0, gt=0, description="...or this age")
    max_frame_bytes: int = Field(1 << 20, ge=1024, description="longer frames are rejected as oversized")
    unknown_sender: Literal["accept", "drop"] = Field(
        "accept", description="accept: school `default`, format auto; drop: count and discard"
    )
    tls_cert: str | None = None
    tls_key: str | None = None


class HealthConfig(BaseModel):
    """Health keys of `[ingest]`: when a source counts as silent (the network manager's ingest alert)."""

    model_config = ConfigDict(extra="ignore")

    silent_after_minutes: float = Field(60.0, gt=0, description="school-hours minutes without a line")
    school_hours: str = Field("07:00-18:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    school_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday")


def _load(model: type[_M], settings: Settings, name: str) -> _M:
    try:
        return model.model_validate(settings.section(name))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config: [{name}] {where}: {first['msg']}") from exc


def kafka_config(settings: Settings) -> KafkaConfig:
    """The validated `[kafka]` section."""
    return _load(KafkaConfig, settings, "kafka")


def syslog_config(settings: Settings) -> SyslogConfig:
    """The validated `[syslog]` section."""
    return _load(SyslogConfig, settings, "syslog")


def health_config(settings: Settings) -> HealthConfig:
    """The validated health keys of `[ingest]`."""
    return _load(HealthConfig, settings, "ingest")
