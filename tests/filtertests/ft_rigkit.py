"""Shared by the filter-test test modules: the running rig's description and the rig plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FilterRig:
    """A running rig."""

    dir: Path
    e2g_proxy: str
    squid_proxy: str
    tls_port: int

    @property
    def e2g_log(self) -> Path:
        """e2guardian's access log (format 6)."""
        return self.dir / "logs" / "e2guardian-access.fmt6.log"

    @property
    def squid_log(self) -> Path:
        """Squid's native access log."""
        return self.dir / "logs" / "squid-access.squid.log"


def rig_plan(rig: FilterRig, *, extra_groups: str = "", extra_checks: str = "", wait: int = 20) -> str:
    """The rig plan (YAML) with the rig's TLS port: pupils and staff, adult, gambling, proxy and control."""
    tls = rig.tls_port
    return f"""
name: rig-test
school: rig
groups:
  - name: pupils
    user: alice
    password: rig-test
  - name: staff
    user: bob
    password: rig-test
{extra_groups}
checks:
  - name: adult-test-page
    category: adult
    urls: [http://adult.test/]
    expect: blocked
  - name: gambling-pupils
    category: gambling
    urls: [http://gambling.test/]
    expect: blocked
    groups: [pupils]
  - name: gambling-staff
    category: gambling
    urls: [http://gambling.test/]
    expect: allowed
    groups: [staff]
  - name: web-proxy
    category: proxy
    urls: [http://proxy-anonymizer.test/, "https://proxy-anonymizer.test:{tls}/"]
    expect: blocked
    groups: [pupils, staff]
  - name: control-page
    category: control
    urls: [http://neutral.test/news.html, "https://secure.test:{tls}/news.html"]
    expect: allowed
    groups: [pupils, staff]
{extra_checks}
options:
  timeout_seconds: 10
  concurrency: 4
monitoring:
  wait_seconds: {wait}
  slack_seconds: 60
"""
