"""The `[notify]` section of vigil.toml: SMTP, webhooks, contacts and thresholds per role and school, hours.

Validated here (the capability's own model); `notify_config(settings)` turns a bad section into one ConfigError
line. Passwords never live in the file: `smtp.password_env` names the environment variable that holds it.
"""

from __future__ import annotations

import os
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.errors import ConfigError
from vigil.settings import Settings

NotifyRole = Literal["dsl", "deputy_dsl", "head_teacher", "network_manager"]
"""Roles that receive alert notifications (the network manager and admin may not see alerts, so never do)."""

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SmtpConfig(_Strict):
    """How to reach the school's mail relay."""

    host: str = Field(default="localhost", description="SMTP server")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(
        default=True, description="upgrade the connection with STARTTLS (refuse to send if it fails)"
    )
    ssl: bool = Field(default=False, description="implicit TLS (port 465) instead of STARTTLS")
    user: str | None = Field(default=None, description="login name, when the relay needs one")
    password_env: str = Field(default="VIGIL_SMTP_PASSWORD", description="environment variable holding the password")
    from_address: str = Field(default="vigil@localhost", description="envelope and header From")
    ca_file: str | None = Field(
        default=None, description="PEM file of CAs to trust (a relay with a private certificate)"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    def password(self) -> str | None:
        """The password from the environment (None when unset)."""
        return os.environ.get(self.password_env) or None


class Contact(_Strict):
    """A person notified by email in one role (their role decides what a notification may say and link to)."""

    name: str = Field(..., min_length=1, max_length=128)
    role: NotifyRole
    email: str = Field(..., pattern=r"^[^@\s]+@[^@\s]+$")
    min_severity: int | None = Field(default=None, ge=1, le=5, description="overrides the role's threshold")


class Webhook(_Strict):
    """A Teams or Slack incoming webhook standing for one role (whoever reads that channel)."""

    name: str = Field(..., min_length=1, max_length=128)
    url: str = Field(..., pattern=r"^https?://")
    format: Literal["slack", "teams"] = "slack"
    role: NotifyRole = "dsl"
    min_severity: int | None = Field(default=None, ge=1, le=5)


class Hours(_Strict):
    """The school day (local time of the school): outside it, the out-of-hours list is notified too."""

    days: list[str] = Field(default_factory=lambda: list(DAYS[:5]))
    start: time = time(8, 0)
    end: time = time(17, 30)

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d.lower()[:3] not in DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use mon..sun")
        return [d.lower()[:3] for d in value]

    def within(self, moment: datetime, tz: str) -> bool:
        """True when `moment` falls inside the school day in zone `tz`."""
        local = moment.astimezone(ZoneInfo(tz))
        return DAYS[local.weekday()] in self.days and self.start <= local.time() < self.end


class Thresholds(_Strict):
    """Lowest severity that notifies each role at once. The DSL always hears of severity 4 and 5."""

    dsl: int = Field(default=4, ge=1, le=4)
    deputy_dsl: int = Field(default=4, ge=1, le=5)
    head_teacher: int = Field(
        default=4, ge=1, le=5, description="applies to alerts about staff; escalations always notify"
    )


class SchoolNotify(_Strict):
    """One school's recipients (and optional overrides)."""

    contacts: list[Contact] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)
    out_of_hours: list[Contact] = Field(default_factory=list, description="also notified outside the school day")
    thresholds: Thresholds | None = None
    hours: Hours | None = None


class Escalation(_Strict):
    """Unacknowledged severity-5 alerts go up the chain: deputy DSL, then head teacher."""

    min_severity: int = Field(default=5, ge=4, le=5)
    deputy_after_minutes: int = Field(default=15, ge=1, le=24 * 60)
    head_after_minutes: int = Field(default=30, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _order(self) -> Escalation:
        if self.head_after_minutes < self.deputy_after_minutes:
            raise ValueError("head_after_minutes must not be shorter than deputy_after_minutes")
        return self


class Retry(_Strict):
    """Failed deliveries are retried with exponential backoff, then given up (and logged)."""

    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_seconds: float = Field(default=30.0, gt=0)
    max_backoff_seconds: float = Field(default=1800.0, gt=0)
    lookback_hours: int = Field(
        default=48, ge=1, le=24 * 14, description="how far back the sweep looks for unsent alerts"
    )

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure."""
        return float(min(self.backoff_seconds * 2 ** max(attempts - 1, 0), self.max_backoff_seconds))


class Digest(_Strict):
    """When `vigil notify run-due` (and `vigil serve`) emails the weekly DSL digest."""

    send: bool = Field(default=False, description="email the weekly digest to each school's DSL and deputy contacts")
    weekday: str = "mon"
    hour: int = Field(default=7, ge=0, le=23, description="local hour of the school")

    @field_validator("weekday")
    @classmethod
    def _day(cls, value: str) -> str:
        if value.lower()[:3] not in DAYS:
            raise ValueError("weekday: one of mon..sun")
        return value.lower()[:3]


class NotifyConfig(_Strict):
    """Everything about routing and delivering notifications."""

    enabled: bool = True
    sweep_seconds: int = Field(default=60, ge=0, le=3600, description="how often `vigil serve` sweeps (0: off)")
    base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://", description="links in messages")
    smtp: SmtpConfig = Field(default_factory=lambda: SmtpConfig())
    thresholds: Thresholds = Field(default_factory=lambda: Thresholds())
    hours: Hours = Field(default_factory=Hours)
    escalation: Escalation = Field(default_factory=lambda: Escalation())
    retry: Retry = Field(default_factory=lambda: Retry())
    digest: Digest = Field(default_factory=lambda: Digest())
    schools: dict[str, SchoolNotify] = Field(default_factory=dict)

    def school(self, school: str) -> SchoolNotify:
        """A school's recipients (empty when the school is not configured)."""
        return self.schools.get(school) or SchoolNotify()

    def thresholds_for(self, school: str) -> Thresholds:
        """The school's thresholds, or the defaults."""
        return self.school(school).thresholds or self.thresholds

    def hours_for(self, school: str) -> Hours:
        """The school's day, or the default."""
        return self.school(school).hours or self.hours

    def link(self, path: str) -> str:
        """An absolute link into the web UI."""
        return self.base_url.rstrip("/") + path


def notify_config(settings: Settings) -> NotifyConfig:
    """Validate `[notify]` (one ConfigError line on a mistake)."""
    try:
        return NotifyConfig(**settings.section("notify"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config: notify.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
