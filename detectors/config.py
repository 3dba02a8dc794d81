"""The `[detection]` section of vigil.toml: schools add phrases, exclusions and licensed lists without code.

Example::

    [detection]
    exclude_terms = ["isis project"]          # searches containing these never alert
    allow_hosts = ["ourschool-lms.example"]   # URL text on these hosts is never analysed
    curriculum_context = ["year 9 project"]   # caps non-crisis hits at severity 2 (schoolwork)
    disabled_phrases = ["suicide_self_harm:en:kms"]
    cohort_min_users = 5

    [[detection.phrases]]
    phrase = "meet me behind the sports hall"
    category = "bullying"
    severity = 3

    [[detection.licensed_lists]]               # IWF / CTIRU keyword lists: never shipped, loaded here
    path = "/etc/vigil/iwf-keywords.txt"
    category = "illegal_content"
    severity = 4
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detectors.base import CATEGORIES, DetectContext
from detectors.errors import DetectionConfigError


class SchoolPhrase(BaseModel):
    """A phrase a school adds to the library."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phrase: str = Field(min_length=2)
    category: str
    severity: int = Field(default=3, ge=1, le=5)
    lang: str = "en"
    requires_any: tuple[str, ...] = ()
    excludes_any: tuple[str, ...] = ()
    joined: bool = False

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; known: {', '.join(CATEGORIES)}")
        return value


class LicensedList(BaseModel):
    """A licensed keyword list (IWF, CTIRU) loaded from a path at run time; its hits always alert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    name: str = "licensed"
    category: str = "illegal_content"
    severity: int = Field(default=4, ge=1, le=5)
    format: Literal["lines", "csv"] = "lines"  # csv: term[,category[,severity]]


class BlockedConfig(BaseModel):
    """Thresholds for blocked-attempt alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_attempts: int = Field(default=5, ge=1)
    window_minutes: int = Field(default=10, ge=1)


class DetectionConfig(BaseModel):
    """Validated `[detection]` settings (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phrases: tuple[SchoolPhrase, ...] = ()
    disabled_phrases: tuple[str, ...] = ()
    disabled_categories: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    help_hosts: tuple[str, ...] = ()
    curriculum_context: tuple[str, ...] = ()
    licensed_lists: tuple[LicensedList, ...] = ()
    cohort_min_users: int = Field(default=5, ge=2)
    context_minutes: int = Field(default=60, ge=0, le=24 * 60)
    autocomplete_seconds: int = Field(default=60, ge=0)
    min_severity: int = Field(default=1, ge=1, le=5)
    use_model: bool = True
    model_path: Path | None = None
    blocked: BlockedConfig = BlockedConfig()


def parse_detection_config(raw: Mapping[str, Any]) -> DetectionConfig:
    """Validate a `[detection]` table; one clear line on error."""
    try:
        return DetectionConfig.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DetectionConfigError(f"config: detection.{where}: {first['msg']}") from exc


def detection_config(ctx: DetectContext) -> DetectionConfig:
    """The detection settings for a run.

    `ctx.options` is either `{"detection": {...}}` (`vigil detect`, tests) or the `[detection]` table itself
    (ingest); other detectors' sub-tables in it are ignored. Without options: the active settings.
    """
    raw: Any = ctx.options.get("detection")
    if raw is None and ctx.options:
        raw = {k: v for k, v in ctx.options.items() if k in DetectionConfig.model_fields or not isinstance(v, dict)}
    if raw is None:
        from vigil.settings import get_settings

        raw = get_settings().section("detection")
    if isinstance(raw, DetectionConfig):
        return raw
    return parse_detection_config(raw)
