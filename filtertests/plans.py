"""Filter-test plans: YAML files naming the checks, the user groups and sites they apply to (pydantic-validated).

A plan says *what* to probe and what the school expects; the runner (`filtertests.runner`) does the probing
and `filtertests.monitoring` looks the probes up in the ingested logs. `load_plan("default")` reads the
shipped `filtertests/data/default-plan.yaml` (industry test pages: IWF, CTIRU, SWGfL adult and profanity
test pages, DoH canary, safe-search endpoints), `load_plan(path)` a school's own plan.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from filtertests.errors import PlanError

DATA = Path(__file__).parent / "data"
DEFAULT_PLAN = DATA / "default-plan.yaml"

Outcome = Literal["blocked", "allowed", "safe_search_enforced"]
Kind = Literal["http", "dns", "safe_search"]

KNOWN_CATEGORIES: dict[str, str] = {
    "illegal_csam_test": "Child sexual abuse material: a test URL on the IWF list (never real content)",
    "terrorism_test": "Unlawful terrorist content: a test URL on the CTIRU list",
    "adult": "Pornography: a purpose-made test page on an adult site",
    "profanity": "A page of offensive language hosted for filter testing",
    "gambling": "Gambling sites",
    "proxy": "Web proxies and anonymisers used to bypass filtering",
    "vpn": "VPN services used to bypass filtering",
    "doh": "DNS over HTTPS resolvers and the browser DoH canary domain",
    "social_media": "Social media (often allowed for staff, blocked for pupils)",
    "safe_search": "Search engines answer with safe search forced",
    "control": "A page that must stay reachable (shows the filter does not over-block)",
}
"""Categories the shipped plans use; a school may add its own (lower-case slug)."""

ALERT_CATEGORIES: dict[str, str] = {
    "illegal_csam_test": "illegal_content",
    "terrorism_test": "extremism",
    "adult": "pornography",
    "gambling": "gambling",
    "proxy": "circumvention",
    "vpn": "circumvention",
    "doh": "circumvention",
}
"""Which alert category an expected-blocked check that was allowed raises (others: none unless the check says)."""

DEFAULT_BLOCK_SIGNATURES = (
    "E2Guardian - Access Denied",  # e2guardian's template.html title
    "ERR_ACCESS_DENIED",  # Squid's deny page (and its X-Squid-Error header)
    "Netsweeper",  # Netsweeper deny pages carry the product name in the page and the WebAdmin URL
    "webadmin/deny",
    "Web Page Blocked",
    "This page has been blocked",
    "This site has been blocked",
    "Access to this site is blocked",
)
DEFAULT_BLOCK_REDIRECTS = (
    "internal.test.e2guardian.org",  # e2guardian's answer to a banned CONNECT (302 Location)
    "webadmin/deny",  # Netsweeper deny page
    "blockpage",
    "/blocked",
    "denied",
)
DEFAULT_SAFE_SEARCH_SIGNATURES = (
    r"forcesafesearch",  # Google: www.google.com CNAME forcesafesearch.google.com (DNS) and the locked page
    r"SafeSearch is locked",
    r"safe=active",
    r"Restricted Mode is (on|enabled) by your network administrator",  # YouTube restricted mode page
    r"YouTube-Restrict",
    r"restrict(moderate)?\.youtube\.com",
    r"strict\.bing\.com",  # Bing: www.bing.com CNAME strict.bing.com
    r"adlt=strict",
    r"safe\.duckduckgo\.com",
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Group(_Model):
    """A user group probed through the filter: proxy credentials, or a source address bound per request."""

    name: str
    user: str | None = Field(None, description="proxy-basic user name the filter maps to this group")
    password: str | None = None
    password_env: str | None = Field(None, description="environment variable holding the password")
    source_address: str | None = Field(None, description="local address to bind (groups by source address)")
    proxy: str | None = Field(None, description="this group's own proxy (e.g. a guest network), else the site's")
    log_user: str | None = Field(None, description="how the filter's logs name this group's probe user")

    @property
    def identity(self) -> str | None:
        """The user name (or client address) the logs are expected to carry for this group's probes."""
        if self.log_user:
            return self.log_user.lower()
        if self.user:
            return self.user.lower()
        return self.source_address

    def secret(self) -> str:
        """The proxy password (from the plan, or its environment variable; empty when unset)."""
        if self.password_env:
            return os.environ.get(self.password_env, "")
        return self.password or ""


class Site(_Model):
    """A site (or network segment) with its own filter path: proxy URL and DNS resolver."""

    name: str
    proxy: str | None = None
    resolver: str | None = Field(None, description="DNS resolver host[:port] for dns checks")


class Check(_Model):
    """One named check: a category, its probe URLs (or host names for DNS), the expected outcome."""

    name: str
    category: str
    kind: Kind = "http"
    urls: list[str] = Field(min_length=1)
    expect: Outcome
    groups: list[str] = Field(default_factory=list, description="empty: every group")
    sites: list[str] = Field(default_factory=list, description="empty: every site")
    signatures: list[str] = Field(default_factory=list, description="safe-search signatures (regex)")
    monitor: bool | None = Field(None, description="look the probe up in the logs (default: http yes, dns no)")
    alert_category: str | None = None
    note: str = ""

    @field_validator("category")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"category {v!r} must be a lower-case slug (e.g. adult, illegal_csam_test)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Check:
        for url in self.urls:
            if self.kind == "dns":
                if "/" in url or not url.strip("."):
                    raise ValueError(f"dns check {self.name!r}: give host names, not URLs ({url!r})")
            elif urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"check {self.name!r}: {url!r} is not an http(s) URL")
        if self.kind == "safe_search" and self.expect != "safe_search_enforced":
            raise ValueError(f"safe_search check {self.name!r} must expect safe_search_enforced")
        if self.expect == "safe_search_enforced" and self.kind == "http":
            raise ValueError(f"check {self.name!r}: safe_search_enforced needs kind safe_search or dns")
        for sig in self.signatures:
            try:
                re.compile(sig)
            except re.error as exc:
                raise ValueError(f"check {self.name!r}: bad signature {sig!r}: {exc}") from exc
        return self

    @property
    def monitored(self) -> bool:
        """Whether this check's probes must show up in the ingested logs."""
        return self.monitor if self.monitor is not None else self.kind != "dns"

    @property
    def raises_category(self) -> str | None:
        """The alert category when an expected block did not happen (None: record only)."""
        return self.alert_category or ALERT_CATEGORIES.get(self.category)


class Options(_Model):
    """How to probe and how to recognise a block."""

    timeout_seconds: float = Field(10.0, gt=0, le=120)
    concurrency: int = Field(4, ge=1, le=32)
    tls_verify: bool = Field(False, description="verify origin certificates (off: filters that inspect TLS)")
    block_statuses: list[int] = Field(default_factory=lambda: [403, 451])
    block_signatures: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCK_SIGNATURES))
    block_redirects: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCK_REDIRECTS))
    safe_search_signatures: list[str] = Field(default_factory=lambda: list(DEFAULT_SAFE_SEARCH_SIGNATURES))
    sinkhole_addresses: list[str] = Field(default_factory=lambda: ["0.0.0.0", "127.0.0.1", "::", "::1"])
    reset_is_blocked: bool = Field(True, description="a connection reset after the request counts as a block")
    unreachable_is_blocked: bool = Field(
        False, description="a proxy error (502/503/504, DNS failure) counts as blocked, as SWGfL's test does"
    )
    user_agent: str = "Vigil-FilterTest/1.0 (filter effectiveness check)"


class Monitoring(_Model):
    """The monitoring check: probes must appear in the ingested logs."""

    required: bool = True
    wait_seconds: float = Field(30.0, ge=0, le=600, description="how long to wait for logs to arrive")
    slack_seconds: float = Field(120.0, ge=0, le=3600, description="clock skew allowed around each probe")


class Plan(_Model):
    """A filter-test plan."""

    name: str
    description: str = ""
    school: str | None = None
    groups: list[Group] = Field(min_length=1)
    sites: list[Site] = Field(default_factory=lambda: [Site(name="main", proxy=None, resolver=None)])
    checks: list[Check] = Field(min_length=1)
    options: Options = Field(default_factory=lambda: Options.model_validate({}))
    monitoring: Monitoring = Field(default_factory=lambda: Monitoring.model_validate({}))

    @model_validator(mode="after")
    def _references(self) -> Plan:
        for kind, names in (
            ("group", [g.name for g in self.groups]),
            ("site", [s.name for s in self.sites]),
            ("check", [c.name for c in self.checks]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} names: {', '.join(dupes)}")
        groups = {g.name for g in self.groups}
        sites = {s.name for s in self.sites}
        for check in self.checks:
            unknown = [g for g in check.groups if g not in groups] + [s for s in check.sites if s not in sites]
            if unknown:
                raise ValueError(f"check {check.name!r} names unknown groups/sites: {', '.join(unknown)}")
        return self

    def groups_for(self, check: Check) -> list[Group]:
        """The groups a check applies to."""
        return [g for g in self.groups if not check.groups or g.name in check.groups]

    def sites_for(self, check: Check) -> list[Site]:
        """The sites a check applies to."""
        return [s for s in self.sites if not check.sites or s.name in check.sites]

    def only_groups(self, names: list[str]) -> Plan:
        """A copy restricted to these groups (checks that apply to none of them are dropped)."""
        missing = sorted(set(names) - {g.name for g in self.groups})
        if missing:
            raise PlanError(f"plan {self.name}: no group named {', '.join(missing)}")
        keep = [g for g in self.groups if g.name in names]
        checks = [
            c.model_copy(update={"groups": [g for g in (c.groups or [x.name for x in keep]) if g in names]})
            for c in self.checks
            if not c.groups or set(c.groups) & set(names)
        ]
        if not checks:
            raise PlanError(f"plan {self.name}: no check applies to {', '.join(names)}")
        return self.model_copy(update={"groups": keep, "checks": checks})


def _where(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"{loc}: {first['msg']}" if loc else str(first["msg"])


def parse_plan(text: str, *, source: str = "plan") -> Plan:
    """Validate a plan from YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PlanError(f"{source}: a plan is a YAML mapping (name, groups, checks)")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(f"{source}: {_where(exc)}") from exc


def load_plan(path: str | Path) -> Plan:
    """A plan from a YAML file; `default` is the shipped default plan."""
    p = DEFAULT_PLAN if str(path) == "default" else Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError as exc:
        raise PlanError(f"plan {p} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan {p}: {exc}") from exc
    return parse_plan(text, source=str(p))


def plan_digest(plan: Plan) -> str:
    """A stable SHA-256 of the plan's content (recorded with each run), passwords left out."""
    dumped = plan.model_dump(mode="json")
    for group in dumped["groups"]:
        group.pop("password", None)
    return hashlib.sha256(yaml.safe_dump(dumped, sort_keys=True).encode()).hexdigest()
