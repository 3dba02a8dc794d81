"""Run a plan: probe every (check, group, site, URL) through the filter with bounded concurrency.

`run_plan(plan, proxy=...)` returns one `ProbeResult` per probe; `filtertests.monitoring.check_logs` then
fills in whether the monitoring saw each probe, and `filtertests.records.save_run` stores the lot. Network
trouble never raises: an unreachable filter, a timeout or a refused credential is a failed result with a
clear reason.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from filtertests.errors import PlanError
from filtertests.plans import Check, Group, Plan, Site
from filtertests.probes import Observation, Proxy, probe_dns, probe_http


@dataclass(frozen=True)
class Probe:
    """One request to make: which check, as which group, at which site, to which URL, through what."""

    check: Check
    group: Group
    site: Site
    url: str
    proxy: Proxy | None
    resolver: str | None

    @property
    def host(self) -> str:
        """The host name the filter's logs should carry for this probe."""
        if self.check.kind == "dns":
            return self.url.strip(".").lower()
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def method(self) -> str:
        """GET, CONNECT (HTTPS through a proxy) or DNS."""
        if self.check.kind == "dns":
            return "DNS"
        return "CONNECT" if self.url.startswith("https://") and self.proxy else "GET"


@dataclass
class ProbeResult:
    """The outcome of one probe, then of its monitoring check."""

    check: str
    category: str
    kind: str
    group: str
    site: str
    url: str
    host: str
    method: str
    identity: str | None
    expected: str
    observed: str
    detail: str
    status: int | None
    started: datetime
    finished: datetime
    monitored: bool
    alert_category: str | None = None
    seen_in_logs: bool | None = None
    log_action: str | None = None
    log_category: str | None = None
    log_source: str | None = None
    monitoring_detail: str = ""
    monitoring_required: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def filter_ok(self) -> bool:
        """The filter did what the plan expects (a blocked search engine counts as safe)."""
        if self.observed == self.expected:
            return True
        return self.expected == "safe_search_enforced" and self.observed == "blocked"

    @property
    def monitoring_ok(self) -> bool:
        """The monitoring saw the probe and labelled a block as a block (or no monitoring was asked)."""
        if not self.monitored or not self.monitoring_required:
            return True
        if self.seen_in_logs is not True:
            return False
        return not (self.observed == "blocked" and self.log_action not in ("blocked", "warned"))

    @property
    def passed(self) -> bool:
        """Pass: the filter behaved as expected and the monitoring recorded it."""
        return self.filter_ok and self.monitoring_ok

    @property
    def reason(self) -> str:
        """Why the result failed, in plain words (empty when it passed)."""
        parts: list[str] = []
        if not self.filter_ok:
            parts.append(f"expected {self.expected}, observed {self.observed}: {self.detail}")
        if not self.monitoring_ok:
            parts.append(self.monitoring_detail or "the monitoring did not record it")
        return "; ".join(parts)

    @property
    def unexpectedly_allowed(self) -> bool:
        """An expected block that the filter let through (the case that raises an alert)."""
        return self.expected == "blocked" and self.observed == "allowed"


def build_probes(plan: Plan, *, proxy: str | None = None) -> list[Probe]:
    """Every probe of the plan; `proxy` is used for sites and groups that name none."""
    default = _proxy(proxy, "--proxy") if proxy else None
    probes: list[Probe] = []
    for check in plan.checks:
        for site in plan.sites_for(check):
            for group in plan.groups_for(check):
                chosen = _proxy(group.proxy, f"group {group.name}") if group.proxy else None
                chosen = chosen or (_proxy(site.proxy, f"site {site.name}") if site.proxy else default)
                for url in check.urls:
                    probes.append(Probe(check, group, site, url, chosen, site.resolver))
    return probes


def _proxy(url: str | None, what: str) -> Proxy | None:
    if not url:
        return None
    try:
        return Proxy.parse(url)
    except ValueError as exc:
        raise PlanError(f"{what}: {exc}") from exc


def execute(probe: Probe, plan: Plan) -> ProbeResult:
    """Make one probe and wrap what it saw (never raises for network trouble)."""
    opts = plan.options
    started = datetime.now(UTC)
    safe = None
    if probe.check.expect == "safe_search_enforced":
        safe = probe.check.signatures or opts.safe_search_signatures
    try:
        if probe.check.kind == "dns":
            obs = probe_dns(probe.url, probe.resolver, probe.group, opts, safe_search=safe)
        else:
            obs = probe_http(probe.url, probe.proxy, probe.group, opts, safe_search=safe)
    except Exception as exc:  # noqa: BLE001 - one odd probe must never lose the whole run's record
        obs = Observation("error", f"probe failed: {exc.__class__.__name__}: {exc}")
    if obs.observed == "unreachable" and opts.unreachable_is_blocked:
        obs = Observation("blocked", f"{obs.detail} (counted as blocked by the plan)", obs.status)
    return ProbeResult(
        check=probe.check.name,
        category=probe.check.category,
        kind=probe.check.kind,
        group=probe.group.name,
        site=probe.site.name,
        url=probe.url,
        host=probe.host,
        method=probe.method,
        identity=probe.group.identity,
        expected=probe.check.expect,
        observed=obs.observed,
        detail=obs.detail,
        status=obs.status,
        started=started,
        finished=datetime.now(UTC),
        monitored=probe.check.monitored,
        alert_category=probe.check.raises_category,
        monitoring_required=plan.monitoring.required,
    )


def run_plan(
    plan: Plan,
    *,
    proxy: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Probe the whole plan with at most `options.concurrency` requests in flight; results in plan order."""
    probes = build_probes(plan, proxy=proxy)
    if not probes:
        raise PlanError(f"plan {plan.name}: nothing to probe")
    with ThreadPoolExecutor(max_workers=plan.options.concurrency, thread_name_prefix="filtertest") as pool:
        futures = [pool.submit(execute, p, plan) for p in probes]
        results = []
        for fut in futures:
            res = fut.result()
            results.append(res)
            if on_result:
                on_result(res)
    return results
