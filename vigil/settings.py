"""Configuration: defaults, then `vigil.toml` (or --config / VIGIL_CONFIG), then VIGIL_* environment variables.

Core keys are typed here. Sections owned by one capability (`[detection]`, `[retention]`, `[formats.*]`,
`[netsweeper]`, `[notify]`, `[filtertests]`, `[kafka]`, `[syslog]`...) are kept as tables and validated by
that capability's own model via `Settings.section(name)`, so adding a capability never edits this file.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.errors import ConfigError

DEV_SECRET = "dev-only-insecure-secret-change-me"


class SourceConfig(BaseModel):
    """A configured log source: where its lines come from and how to read them."""

    name: str
    school: str = "default"
    format: str = "auto"
    path: str | None = None
    tz: str | None = None
    observer: str | None = None
    hosts: list[str] = Field(default_factory=list, description="syslog sender addresses or hostnames")
    options: dict[str, Any] = Field(default_factory=dict)


class SchoolConfig(BaseModel):
    """A school (tenant) served by this Vigil."""

    name: str = ""
    tz: str | None = None


class Settings(BaseSettings):
    """Vigil's settings; every field can be set in vigil.toml or as VIGIL_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="allow")

    data_dir: Path = Path("var")
    database_url: str | None = None
    timezone: str = "Europe/London"
    secret_key: str = DEV_SECRET
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: str = "json"
    schools: dict[str, SchoolConfig] = Field(default_factory=dict)
    sources: list[SourceConfig] = Field(default_factory=list)

    @property
    def case_db_url(self) -> str:
        """The case store URL: configured, or SQLite under the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'cases.db').as_posix()}"

    @property
    def warehouse_dir(self) -> Path:
        """Root of the Parquet warehouse."""
        return self.data_dir / "warehouse"

    def section(self, name: str) -> dict[str, Any]:
        """A capability's own table from the TOML (empty when absent)."""
        extra = self.model_extra or {}
        value = extra.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"config: [{name}] must be a table")
        return value

    def school_tz(self, school: str) -> str:
        """The timezone for a school's sources."""
        cfg = self.schools.get(school)
        return (cfg.tz if cfg and cfg.tz else None) or self.timezone

    def check_secrets(self) -> None:
        """Refuse the placeholder secret outside development."""
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ConfigError("config: secret_key must be set (VIGIL_SECRET_KEY) outside development")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config: {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from exc


def load_settings(config: Path | None = None, data_dir: Path | None = None) -> Settings:
    """Settings from a TOML file (explicit, VIGIL_CONFIG, or ./vigil.toml if present) plus VIGIL_* variables."""
    path = config or (Path(os.environ["VIGIL_CONFIG"]) if os.environ.get("VIGIL_CONFIG") else None)
    if path is None and Path("vigil.toml").is_file():
        path = Path("vigil.toml")
    file_values = _read_toml(path) if path else {}
    env_keys = {k[len("VIGIL_") :].lower() for k in os.environ if k.startswith("VIGIL_")}
    # Environment variables win over the file: drop file keys the environment sets.
    values = {k: v for k, v in file_values.items() if k not in env_keys}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config: {where}: {first['msg']}") from exc
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


_active: Settings | None = None


def activate(settings: Settings) -> None:
    """Make these settings the process-wide active configuration (CLI start-up, tests)."""
    global _active
    _active = settings
    _cached_default.cache_clear()


@lru_cache(maxsize=1)
def _cached_default() -> Settings:
    return load_settings()


def get_settings() -> Settings:
    """The active settings (activated by the CLI), else those from the environment and ./vigil.toml."""
    return _active if _active is not None else _cached_default()
