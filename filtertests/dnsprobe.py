"""A minimal DNS client over UDP (standard library only): one A query, answers with CNAME chain and addresses.

Enough to ask "does this resolver sinkhole the name, refuse it, or rewrite it to a safe-search address?";
not a general resolver (no TCP fallback, no EDNS, no retries beyond one).
"""

from __future__ import annotations

import random
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPE_A, TYPE_CNAME, TYPE_AAAA = 1, 5, 28


class DnsError(OSError):
    """No usable answer (timeout, malformed reply, no resolver)."""


@dataclass
class DnsAnswer:
    """What the resolver said about one name."""

    rcode: str
    addresses: list[str] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)

    def text(self) -> str:
        """One line for records and signature matching."""
        parts = [self.rcode]
        if self.cnames:
            parts.append("cname " + " -> ".join(self.cnames))
        if self.addresses:
            parts.append("addresses " + ", ".join(self.addresses))
        return "; ".join(parts)


def system_resolver(resolv_conf: Path = Path("/etc/resolv.conf")) -> str:
    """The first nameserver of the system configuration."""
    try:
        for line in resolv_conf.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver":
                return fields[1]
    except OSError as exc:
        raise DnsError(f"no resolver configured and {resolv_conf} unreadable: {exc.strerror}") from exc
    raise DnsError(f"no resolver configured and none in {resolv_conf}")


def split_resolver(spec: str) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port` -> (host, port)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, int(port)
    return spec, 53


def _query(name: str, qid: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p for p in (x.encode("idna") for x in name.strip(".").split(".")) if p)
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", TYPE_A, 1)


def _name(msg: bytes, pos: int) -> tuple[str, int]:
    """Read a (possibly compressed) name at pos; returns it and the position after it."""
    labels: list[str] = []
    end = None
    for _ in range(128):  # bounds pointer loops in a hostile reply
        if pos >= len(msg):
            raise DnsError("truncated name in reply")
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(msg):
                raise DnsError("truncated pointer in reply")
            end = end if end is not None else pos + 2
            pos = ((length & 0x3F) << 8) | msg[pos + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end is not None else pos + 1)
        labels.append(msg[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    raise DnsError("name compression loop in reply")


def parse_reply(msg: bytes, qid: int) -> DnsAnswer:
    """Decode a reply to our single A query."""
    if len(msg) < 12:
        raise DnsError("reply shorter than a DNS header")
    rid, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", msg[:12])
    if rid != qid:
        raise DnsError("reply id does not match the query")
    answer = DnsAnswer(rcode=RCODES.get(flags & 0xF, f"RCODE{flags & 0xF}"))
    pos = 12
    for _ in range(qd):
        _, pos = _name(msg, pos)
        pos += 4
    for _ in range(an):
        _, pos = _name(msg, pos)
        if pos + 10 > len(msg):
            raise DnsError("truncated answer in reply")
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[pos : pos + 10])
        pos += 10
        rdata = msg[pos : pos + rdlen]
        if rtype == TYPE_A and rdlen == 4:
            answer.addresses.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == TYPE_AAAA and rdlen == 16:
            answer.addresses.append(socket.inet_ntop(socket.AF_INET6, rdata))
        elif rtype == TYPE_CNAME:
            answer.cnames.append(_name(msg, pos)[0].lower())
        pos += rdlen
    return answer


def resolve(name: str, resolver: str, *, timeout: float, source_address: str | None = None) -> DnsAnswer:
    """Ask `resolver` (host[:port]) for the A records of `name` over UDP."""
    host, port = split_resolver(resolver)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    qid = random.randrange(1, 0xFFFF)  # noqa: S311 - a query id, not a secret
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        if source_address:
            sock.bind((source_address, 0))
        sock.sendto(_query(name, qid), (host, port))
        try:
            data, _ = sock.recvfrom(4096)
        except TimeoutError as exc:
            raise DnsError(f"resolver {resolver} did not answer within {timeout:g}s") from exc
    return parse_reply(data, qid)
