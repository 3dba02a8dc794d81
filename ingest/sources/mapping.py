"""Sender -> configured source: which school and format a syslog sender or Kafka message key belongs to.

`[[sources]]` entries list `hosts`: IP addresses, CIDR networks or hostnames (case-insensitive). The
first entry that matches wins, addresses before hostnames, so a school's firewall is recognised by its
address even when its syslog header carries a different name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from vigil.settings import Settings, SourceConfig

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class SenderSource:
    """What a sender resolved to: its source name, school, format, timezone and observer."""

    name: str
    school: str
    format: str
    tz: str
    observer: str | None
    configured: bool


def safe_name(text: str) -> str:
    """A path- and id-safe rendering of a sender (addresses and hostnames keep their characters)."""
    return _SAFE_NAME.sub("_", text).strip("._") or "unknown"


class SourceMap:
    """Looks senders up in `[[sources]]`, with a cache (senders repeat on every message)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, SourceConfig]] = []
        self._names: dict[str, SourceConfig] = {}
        for src in settings.sources:
            for host in src.hosts:
                try:
                    self._nets.append((ipaddress.ip_network(host, strict=False), src))
                except ValueError:
                    self._names.setdefault(host.lower().rstrip("."), src)
        self._cache: dict[tuple[str, str | None], SourceConfig | None] = {}

    @property
    def has_hostnames(self) -> bool:
        """Whether any source is mapped by hostname (then listeners look at the syslog header)."""
        return bool(self._names)

    def config_for(self, address: str | None, hostname: str | None = None) -> SourceConfig | None:
        """The configured source for a sender address and/or syslog hostname, or None."""
        key = (address or "", hostname)
        if key in self._cache:
            return self._cache[key]
        found: SourceConfig | None = None
        if address:
            try:
                ip = ipaddress.ip_address(address.split("%")[0])
            except ValueError:
                found = self._names.get(address.lower().rstrip("."))
            else:
                found = next((src for net, src in self._nets if ip in net), None)
        if found is None and hostname:
            found = self._names.get(hostname.lower().rstrip("."))
        if len(self._cache) < 100_000:
            self._cache[key] = found
        return found

    def resolve(
        self,
        address: str | None,
        hostname: str | None = None,
        *,
        school: str | None = None,
        fmt: str | None = None,
    ) -> SenderSource:
        """Resolve a sender; flags (`school`, `fmt`) win over the configuration, which wins over defaults."""
        cfg = self.config_for(address, hostname)
        chosen_school = school or (cfg.school if cfg else "default")
        chosen_fmt = fmt if fmt and fmt != "auto" else (cfg.format if cfg else "auto")
        tz = (cfg.tz if cfg and cfg.tz else None) or self.settings.school_tz(chosen_school)
        name = cfg.name if cfg else safe_name(hostname or address or "unknown")
        return SenderSource(
            name=name,
            school=chosen_school,
            format=chosen_fmt,
            tz=tz,
            observer=(cfg.observer if cfg else None),
            configured=cfg is not None,
        )
