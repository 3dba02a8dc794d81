"""The `[api]` section of vigil.toml: options of the HTTP API and web UI, validated here."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from vigil.errors import ConfigError
from vigil.settings import Settings


class ApiConfig(BaseModel):
    """Web options; defaults suit a school server behind its reverse proxy (HTTPS)."""

    cookie_secure: bool = Field(
        True,
        description="send the session cookie only over HTTPS (browsers treat http://127.0.0.1 and localhost as secure)",
    )
    session_hours: int = Field(8, ge=1, le=24, description="how long a browser session lasts")
    silent_after_minutes: int = Field(60, ge=1, description="a source with no events for this long is silent")
    health_days: int = Field(7, ge=1, le=90, description="how far back ingest health looks")
    timeline_minutes: int = Field(60, ge=5, le=240, description="the alert detail's timeline spans ± this")


def api_config(settings: Settings) -> ApiConfig:
    """Validate `[api]`."""
    try:
        return ApiConfig(**settings.section("api"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config: api.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
