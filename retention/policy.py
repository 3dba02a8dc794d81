"""Retention policy: how long each class of data is kept per school, and pure functions deciding what is expired.

No I/O here: `retention.job` lists partitions and records, these functions decide, the job applies. The
rules (docs/retention.md):
- a warehouse partition is expired only when its whole UTC day ended before the cut-off (`now - days`), so
  today's and future partitions (live ingest) are never candidates, whatever the configuration says;
- a closed alert is expired when its closing is older than its class's period: false positives (default
  90 days) or closed with an action (a safeguarding record, default 25 years); open or held alerts never;
- audit entries are expired after `audit_years` (default 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retention.errors import RetentionConfigError

DATA_CLASSES: Mapping[str, str] = {
    "events": "raw monitoring events (warehouse `events/`)",
    "rejects": "log lines that could not be parsed (warehouse `rejects/`)",
    "kafka": "raw log lines buffered in Kafka topics (set on the broker: retention.ms)",
    "false_positive_alerts": "alerts closed as a false positive, counted from closing",
    "actioned_alerts": "alerts closed with an action (safeguarding records), counted from closing",
    "audit": "the audit log",
    "released_evidence": "evidence copied for a legal hold, once the hold is released",
}
"""Every class of data the retention job knows, with the words the DPIA uses."""

MIN_AUDIT_YEARS = 1
"""The database refuses audit deletions younger than this whatever the configuration (migration r001)."""


class SchoolRetention(BaseModel):
    """`[retention.schools.<id>]`: per-school overrides (unset keys fall back to `[retention]`)."""

    model_config = ConfigDict(extra="forbid")

    events_days: int | None = Field(None, ge=1)
    rejects_days: int | None = Field(None, ge=1)
    kafka_topic_hours: int | None = Field(None, ge=1)
    false_positive_days: int | None = Field(None, ge=1)
    actioned_years: int | None = Field(None, ge=1)
    audit_years: int | None = Field(None, ge=MIN_AUDIT_YEARS)
    false_positive_outcomes: list[str] | None = None


class RetentionConfig(BaseModel):
    """`[retention]` in vigil.toml: defaults for every school, overrides under `[retention.schools.<id>]`."""

    model_config = ConfigDict(extra="forbid")

    events_days: int = Field(90, ge=1, description="raw events kept this many days")
    rejects_days: int = Field(30, ge=1, description="rejected lines kept this many days")
    kafka_topic_hours: int = Field(168, ge=1, description="documented Kafka topic retention (set on the broker)")
    false_positive_days: int = Field(90, ge=1, description="false-positive alerts kept this long after closing")
    actioned_years: int = Field(25, ge=1, description="alerts closed with an action kept this long after closing")
    audit_years: int = Field(6, ge=MIN_AUDIT_YEARS, description="audit entries kept this many years")
    false_positive_outcomes: list[str] = Field(default_factory=lambda: ["false_positive"])
    run_at: str = Field("02:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="daily run time (UTC, HH:MM)")
    schools: dict[str, SchoolRetention] = Field(default_factory=dict)

    def for_school(self, school: str) -> SchoolPolicy:
        """The effective policy for one school."""
        o = self.schools.get(school) or SchoolRetention.model_validate({})

        def pick(name: str) -> Any:
            value = getattr(o, name)
            return getattr(self, name) if value is None else value

        return SchoolPolicy(
            school=school,
            events_days=pick("events_days"),
            rejects_days=pick("rejects_days"),
            kafka_topic_hours=pick("kafka_topic_hours"),
            false_positive_days=pick("false_positive_days"),
            actioned_years=pick("actioned_years"),
            audit_years=pick("audit_years"),
            false_positive_outcomes=tuple(pick("false_positive_outcomes")),
            overridden=school in self.schools,
        )


def load_config(section: Mapping[str, Any]) -> RetentionConfig:
    """Validate the `[retention]` table; a bad key or value is one clear ConfigError line."""
    try:
        return RetentionConfig.model_validate(dict(section))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RetentionConfigError(f"config: retention.{where}: {first['msg']}") from exc


@dataclass(frozen=True)
class SchoolPolicy:
    """One school's effective retention periods."""

    school: str
    events_days: int
    rejects_days: int
    kafka_topic_hours: int
    false_positive_days: int
    actioned_years: int
    audit_years: int
    false_positive_outcomes: tuple[str, ...]
    overridden: bool = False

    def table_days(self, table: str) -> int:
        """Days kept for a warehouse table (`events` or `rejects`)."""
        if table == "events":
            return self.events_days
        if table == "rejects":
            return self.rejects_days
        raise ValueError(f"no retention period for warehouse table {table!r}")

    def describe(self, data_class: str) -> str:
        """The rule in words, for audit entries and the DPIA (`events: 90 days (school s1)`)."""
        period = {
            "events": f"{self.events_days} days",
            "rejects": f"{self.rejects_days} days",
            "kafka": f"{self.kafka_topic_hours} hours",
            "false_positive_alerts": f"{self.false_positive_days} days after closing",
            "actioned_alerts": f"{self.actioned_years} years after closing",
            "audit": f"{self.audit_years} years",
            "released_evidence": "until the next run after release",
        }[data_class]
        where = f"school {self.school} override" if self.overridden else "default"
        return f"{data_class}: {period} ({where})"


@dataclass(frozen=True)
class Partition:
    """One warehouse partition as listed by the job: where it is and how many rows it holds."""

    table: str
    school: str
    day: date
    rows: int
    files: int
    bytes: int = 0

    @property
    def key(self) -> str:
        """Its path relative to the warehouse root (`events/school=s1/date=2026-01-02`)."""
        return f"{self.table}/school={self.school}/date={self.day.isoformat()}"


@dataclass(frozen=True)
class Expiry:
    """A decision: this object is expired under this rule, whose cut-off was this instant."""

    key: str
    school: str
    data_class: str
    rows: int
    cutoff: datetime
    rule: str


def years_before(instant: datetime, years: int) -> datetime:
    """The same calendar instant `years` earlier (29 February becomes the 28th)."""
    try:
        return instant.replace(year=instant.year - years)
    except ValueError:
        return instant.replace(year=instant.year - years, day=28)


def partition_cutoff(now: datetime, days: int) -> datetime:
    """Rows from before this instant are past retention."""
    return _utc(now) - timedelta(days=days)


def partition_expired(day: date, now: datetime, days: int) -> bool:
    """True only when the partition's whole UTC day ended at or before the cut-off (never today or later)."""
    now = _utc(now)
    if day >= now.date():
        return False
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return day_end <= partition_cutoff(now, days)


def expired_partitions(
    partitions: Iterable[Partition],
    now: datetime,
    config: RetentionConfig,
    *,
    events_days: int | None = None,
) -> list[Expiry]:
    """The partitions to delete, oldest first; `events_days` overrides the events period for every school."""
    out: list[Expiry] = []
    for p in sorted(partitions, key=lambda p: (p.day, p.table, p.school)):
        policy = config.for_school(p.school)
        days = events_days if (events_days is not None and p.table == "events") else policy.table_days(p.table)
        if partition_expired(p.day, now, days):
            default = days == policy.table_days(p.table)
            rule = policy.describe(p.table) if default else f"{p.table}: {days} days (--days)"
            out.append(Expiry(p.key, p.school, p.table, p.rows, partition_cutoff(now, days), rule))
    return out


@dataclass(frozen=True)
class ClosedAlert:
    """What the policy needs to know about a closed alert."""

    id: str
    school: str
    outcome: str | None
    closed_at: datetime
    held: bool


def alert_class(alert: ClosedAlert, policy: SchoolPolicy) -> str:
    """`false_positive_alerts` or `actioned_alerts` (a safeguarding record) by the closing outcome."""
    return "false_positive_alerts" if alert.outcome in policy.false_positive_outcomes else "actioned_alerts"


def alert_cutoff(data_class: str, now: datetime, policy: SchoolPolicy) -> datetime:
    """Alerts of this class closed before this instant are past retention."""
    if data_class == "false_positive_alerts":
        return _utc(now) - timedelta(days=policy.false_positive_days)
    return years_before(_utc(now), policy.actioned_years)


def expired_alerts(alerts: Iterable[ClosedAlert], now: datetime, config: RetentionConfig) -> list[Expiry]:
    """Closed, unheld alerts whose class period since closing has passed."""
    out: list[Expiry] = []
    for a in alerts:
        if a.held:
            continue
        policy = config.for_school(a.school)
        cls = alert_class(a, policy)
        cutoff = alert_cutoff(cls, now, policy)
        if _utc(a.closed_at) < cutoff:
            out.append(Expiry(a.id, a.school, cls, 1, cutoff, policy.describe(cls)))
    return out


def audit_cutoff(now: datetime, policy: SchoolPolicy) -> datetime:
    """Audit entries of this school from before this instant are past retention."""
    return years_before(_utc(now), policy.audit_years)


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
