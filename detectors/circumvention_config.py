"""The `[circumvention]` configuration section, validated by its own pydantic model.

Example (vigil.toml):

    [circumvention]
    exempt_groups = ["staff", "it-technicians"]      # user_group values never alerted on
    allow_domains = ["ourschool.sch.uk"]              # extra ordinary domains (model/behaviour/list never flag)
    disabled_signatures = ["tunnel.ipsec"]

    [circumvention.sources.netsweeper]                # per source (parser name)
    categories = ["Proxy Anonymizer", "Remote Access"]   # this filter's own names meaning circumvention
    ignore = ["translation"]                          # default names that do not mean circumvention here
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.errors import ConfigError


class SourceCategories(BaseModel):
    """Per-source overrides of which filter category names mean circumvention."""

    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(default_factory=list, description="extra category names meaning circumvention")
    ignore: list[str] = Field(default_factory=list, description="default names that do not mean it for this source")


class BehaviourConfig(BaseModel):
    """Thresholds of the behaviour rules (detectors/behaviour.py)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    after_block_minutes: int = Field(default=10, ge=1, le=120)
    history_days: int = Field(default=14, ge=1, le=90)
    rare_max_users: int = Field(default=2, ge=1, description="rare: seen by at most this many users")
    min_new_host_requests: int = Field(default=5, ge=1)
    lesson_min_users: int = Field(default=5, ge=2, description="distinct users of one new host in one hour and /24")
    dark_min_prior_events: int = Field(default=50, ge=1, description="events in the hour before a user goes dark")
    dark_minutes: int = Field(default=30, ge=5)


class CircumventionConfig(BaseModel):
    """Options of the circumvention detector."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    lists_dir: Path | None = Field(default=None, description="compiled lists (default <data>/lists)")
    model_path: Path | None = Field(default=None, description="domain model (default <data>/models/circumvention.npz)")
    model_threshold: float | None = Field(default=None, description="override the model's stored 0.1%-FPR threshold")
    model_repeat_hosts: int = Field(default=3, ge=2, description="model-only hosts per user before severity 3")
    disabled_signatures: list[str] = Field(default_factory=list)
    exempt_users: list[str] = Field(default_factory=list)
    exempt_groups: list[str] = Field(default_factory=list)
    allow_domains: list[str] = Field(default_factory=list)
    sources: dict[str, SourceCategories] = Field(default_factory=dict)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)


def load_config(section: Mapping[str, Any] | None) -> CircumventionConfig:
    """Validate a `[circumvention]` table; a bad value is one clear ConfigError."""
    try:
        return CircumventionConfig.model_validate(dict(section or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config: [circumvention] {where}: {first['msg']}") from exc
