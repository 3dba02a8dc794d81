"""Rendering decided requests as log lines, vectorised: Netsweeper TSV, e2guardian format 6, FortiGate key=value.

Field orders follow `/work/shared/reference/log-formats.md` (sections 1, 3, 5) and the real e2guardian 5.3.5
samples; Netsweeper has no public format, so its default Request Log profile is what Vigil's parser expects.
"""

from __future__ import annotations

import numpy as np
import polars as pl

TZ = "Europe/London"
NS_SERVER, NS_INTERCEPTOR, NS_LOGGER = "ns-filter01", "10.0.0.5", "ns-logger01"
FG_DEVNAME, FG_DEVID = "VIGIL-DEMO-FGT", "FG100FTK20000001"
DNS_SERVER = "10.0.0.10"  # the school's own resolver (a domain controller)
DNS_UPSTREAM = "10.0.0.1"  # the FortiGate's DNS service, which the Wi-Fi and the resolver use
# e2guardian decrypts (MITM) only search engines and YouTube here, so SafeSearch can be enforced; everything
# else is a CONNECT tunnel it sees by host name alone, as most school set-ups do.
E2G_MITM_CATS = ("search", "video")


def _local(fmt: str) -> pl.Expr:
    return pl.col("ts").dt.convert_time_zone(TZ).dt.strftime(fmt)


def _dash(expr: pl.Expr) -> pl.Expr:
    return pl.coalesce(expr.cast(pl.String), pl.lit("-"))


def netsweeper(ev: pl.DataFrame) -> pl.DataFrame:
    """Netsweeper Request Log lines (TAB, the default column profile), with their timestamps."""
    event_type = pl.col("action").replace_strict(
        {"allowed": "Allowed", "blocked": "Denied", "warned": "Warned", "proceeded": "Warn Proceeded", "error": "Error"}
    )
    event_data = pl.coalesce(
        pl.col("force_reason"),
        pl.when(pl.col("action") == "blocked")
        .then(pl.lit("Category Denied: ") + pl.col("ns_name"))
        .when(pl.col("action") == "warned")
        .then(pl.lit("Warning Page: ") + pl.col("ns_name"))
        .when(pl.col("action") == "proceeded")
        .then(pl.lit("Warning Acknowledged: ") + pl.col("ns_name")),
        pl.lit("-"),
    )
    number = pl.col("ns_number").cast(pl.String)
    line = pl.concat_str(
        [
            pl.lit(NS_SERVER),
            _local("%Y-%m-%d %H:%M:%S"),
            pl.col("url"),
            pl.col("client_ip"),
            pl.col("client_name"),
            event_type,
            event_data,
            number,
            number,
            pl.col("ns_name"),
            pl.col("dst_ip"),
            pl.lit(NS_INTERCEPTOR),
            pl.lit(NS_LOGGER),
            pl.col("method"),
            pl.col("user_agent"),
            _dash(pl.col("referrer")),
        ],
        separator="\t",
    )
    return ev.select("ts", line=line)


def e2guardian(ev: pl.DataFrame) -> pl.DataFrame:
    """e2guardian `logfileformat 6` lines (Protex TAB, server blanked), as Debian's e2guardian 5.3 writes them."""
    mitm = pl.col("cat").is_in(list(E2G_MITM_CATS))
    hostport = pl.lit("https://") + pl.col("host") + pl.lit(":443")
    rest = pl.col("url").str.replace(r"^https?://[^/?#]+", "")
    blocked = pl.col("action") == "blocked"
    ms = pl.col("ts").dt.epoch("ms")
    what = pl.coalesce(
        pl.col("force_reason"),
        pl.when(blocked).then(pl.lit("*DENIED* Blocked site: ") + pl.col("host")),
        pl.lit("-"),
    )
    message_no = (
        pl.when(pl.col("force_reason").str.contains("Banned Search Words"))
        .then(pl.lit("521"))
        .when(blocked)
        .then(pl.lit("500"))
        .otherwise(pl.lit("0"))
    )
    line = pl.concat_str(
        [
            (ms // 1000).cast(pl.String) + pl.lit(".") + (ms % 1000).cast(pl.String).str.zfill(3),
            pl.lit(""),
            pl.col("user"),
            pl.col("client_ip"),
            pl.col("client_ip"),
            pl.when(mitm).then(hostport + rest).otherwise(hostport),
            pl.when(mitm).then(pl.col("method")).otherwise(pl.lit("CONNECT")),
            pl.col("status").cast(pl.String),
            pl.when(blocked).then(pl.lit("0")).otherwise(pl.col("bytes_in").cast(pl.String)),
            pl.when(mitm & ~blocked).then(pl.lit("text/html")).otherwise(pl.lit("-")),
            pl.col("user_agent"),
            pl.lit("-"),
            pl.col("duration_ms").cast(pl.String),
            pl.lit("-"),
            message_no,
            what,
            pl.lit("0"),
            pl.when(blocked & (pl.col("e2_name") != ""))
            .then(pl.col("e2_name"))
            .when(pl.col("force_reason").str.contains("Banned Search Words"))
            .then(pl.lit("Banned Search Terms"))
            .otherwise(pl.lit("-")),
            pl.col("group"),
            pl.col("group_no").cast(pl.String),
        ],
        separator="\t",
    )
    return ev.select("ts", line=line)


def _fg_header(logid: str, type_: str, subtype: str, eventtype: str | None, level: pl.Expr) -> list[pl.Expr]:
    head = [
        pl.lit("date=") + _local("%Y-%m-%d"),
        pl.lit("time=") + _local("%H:%M:%S"),
        pl.lit(f'devname="{FG_DEVNAME}" devid="{FG_DEVID}"'),
        pl.lit("eventtime=") + pl.col("ts").dt.epoch("ns").cast(pl.String),
        pl.lit('tz="') + _local("%z") + pl.lit('"'),
        pl.lit(f'logid="{logid}" type="{type_}" subtype="{subtype}"'),
    ]
    if eventtype:
        head.append(pl.lit(f'eventtype="{eventtype}"'))
    head += [pl.lit('level="') + level + pl.lit('" vd="root"')]
    return head


def _q(key: str, value: pl.Expr) -> pl.Expr:
    """`key="value"`, or nothing when the value is null (FortiOS leaves absent keys out)."""
    return (
        pl.when(value.is_null())
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit(f'{key}="') + value.cast(pl.String).str.replace_all('"', '\\"', literal=True) + pl.lit('"'))
    )


def _n(key: str, value: pl.Expr) -> pl.Expr:
    return pl.lit(f"{key}=") + value.cast(pl.String)


def fortigate_webfilter(ev: pl.DataFrame) -> pl.DataFrame:
    """FortiGate UTM web filter lines for the staff network (FortiGuard categories, FSSO users)."""
    blocked = pl.col("action") == "blocked"
    logid = pl.when(blocked).then(pl.lit("0316013056")).otherwise(pl.lit("0316013057"))
    parts = [
        pl.lit("date=") + _local("%Y-%m-%d"),
        pl.lit("time=") + _local("%H:%M:%S"),
        pl.lit(f'devname="{FG_DEVNAME}" devid="{FG_DEVID}"'),
        pl.lit("eventtime=") + pl.col("ts").dt.epoch("ns").cast(pl.String),
        pl.lit('tz="') + _local("%z") + pl.lit('"'),
        pl.lit('logid="') + logid + pl.lit('" type="utm" subtype="webfilter"'),
        pl.when(blocked)
        .then(pl.lit('eventtype="ftgd_blk" level="warning"'))
        .otherwise(pl.lit('eventtype="ftgd_allow" level="notice"')),
        pl.lit('vd="root" policyid=21'),
        _n("sessionid", pl.col("sport") * 7 + 1_000_000),
        _q("srcip", pl.col("client_ip")),
        _n("srcport", pl.col("sport")),
        pl.lit('srcintf="staff-wifi" srcintfrole="lan"'),
        _q("dstip", pl.col("dst_ip")),
        pl.lit("dstport=443"),
        pl.lit('dstintf="wan1" dstintfrole="wan" proto=6 service="HTTPS"'),
        _q("hostname", pl.col("host")),
        pl.lit('profile="staff" reqtype="direct"'),
        _q("url", pl.col("url").str.replace(r"^https?://[^/?#]+", "").str.replace(r"^$", "/")),
        _n("sentbyte", pl.col("bytes_out")),
        _n("rcvdbyte", pl.col("bytes_in")),
        pl.lit('direction="outgoing"'),
        pl.lit('action="') + pl.when(blocked).then(pl.lit("blocked")).otherwise(pl.lit("passthrough")) + pl.lit('"'),
        pl.when(blocked)
        .then(pl.lit('msg="URL belongs to a denied category in policy"'))
        .otherwise(pl.lit('msg="URL belongs to an allowed category in policy"')),
        pl.lit('method="domain"'),
        _n("cat", pl.col("fg_id")),
        _q("catdesc", pl.col("fg_desc")),
        _q("user", pl.col("user")),
        _q("group", pl.col("group")),
        pl.lit('authserver="FSSO"'),
        _q("agent", pl.col("user_agent")),
        _q("httpmethod", pl.col("method")),
    ]
    return ev.select("ts", line=pl.concat_str(parts, separator=" ", ignore_nulls=True))


def fortigate_dns(dns: pl.DataFrame) -> pl.DataFrame:
    """FortiGate DNS filter lines (`type="utm" subtype="dns"`), one per looked-up name."""
    blocked = pl.col("dns_action") == "block"
    parts = [
        *_fg_header(
            "1501054802",
            "utm",
            "dns",
            "dns-response",
            pl.when(blocked).then(pl.lit("warning")).otherwise(pl.lit("notice")),
        ),
        pl.lit("policyid=12"),
        _n("sessionid", pl.col("sport") * 3 + 2_000_000),
        _q("srcip", pl.col("client_ip")),
        _n("srcport", pl.col("sport")),
        _q("srcintf", _intf(pl.col("client_ip"))),
        pl.lit(f'dstip={DNS_UPSTREAM} dstport=53 dstintf="root" proto=17 profile="school-dns"'),
        _n("xid", pl.col("sport") * 11 % 65536),
        _q("qname", pl.col("qname")),
        pl.lit('qtype="A" qtypeval=1'),
        pl.lit('qclass="IN"'),
        pl.when(blocked).then(pl.lit(None, pl.String)).otherwise(_q("ipaddr", pl.col("dst_ip"))),
        pl.when(blocked)
        .then(pl.lit('msg="Domain was blocked by dns filter" action="block"'))
        .otherwise(pl.lit('msg="Domain is monitored" action="pass"')),
        _n("cat", pl.col("fg_id")),
        _q("catdesc", pl.col("fg_desc")),
        _q("user", pl.col("user")),
    ]
    return dns.select("ts", line=pl.concat_str(parts, separator=" ", ignore_nulls=True))


def fortigate_traffic(fw: pl.DataFrame) -> pl.DataFrame:
    """FortiGate forward traffic lines: denied sessions (QUIC, VPN and DoT ports) leaving the pupil Wi-Fi."""
    deny = pl.col("fw_action") == "deny"
    parts = [
        *_fg_header(
            "0000000013", "traffic", "forward", None, pl.when(deny).then(pl.lit("warning")).otherwise(pl.lit("notice"))
        ),
        _q("srcip", pl.col("client_ip")),
        _n("srcport", pl.col("sport")),
        pl.lit('srcintf="pupil-wifi" srcintfrole="lan"'),
        _q("dstip", pl.col("dst_ip")),
        _n("dstport", pl.col("dst_port")),
        pl.lit('dstintf="wan1" dstintfrole="wan"'),
        _n("sessionid", pl.col("sport") * 5 + 3_000_000),
        _n("proto", pl.col("proto")),
        _q("action", pl.col("fw_action")),
        pl.lit('policyid=99 policytype="policy"'),
        _q("service", pl.col("service")),
        pl.lit('trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0'),
        pl.lit('appcat="unscanned"'),
        _q("user", pl.col("user")),
        _q("group", pl.col("group")),
        pl.lit('msg="Denied by forward policy check (policy 99)"'),
    ]
    return fw.select("ts", line=pl.concat_str(parts, separator=" ", ignore_nulls=True))


def dns_lookups(ev: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """DNS queries the FortiGate sees: Wi-Fi clients ask it directly (first lookup of a host per client per day);
    wired classroom PCs ask the school's DNS server, which forwards each name about once an hour."""
    wifi = pl.col("client_ip").str.contains(r"^10\.(21|31|40)\.")
    local = ev.with_columns(local_hour=pl.col("ts").dt.convert_time_zone(TZ).dt.truncate("1h")).with_columns(
        local_day=pl.col("local_hour").dt.date()
    )
    direct = (
        local.filter(wifi)
        .sort("ts", maintain_order=True)
        .unique(["client_ip", "host", "local_day"], keep="first", maintain_order=True)
    )
    forwarded = (
        local.filter(~wifi)
        .sort("ts", maintain_order=True)
        .unique(["host", "local_hour"], keep="first", maintain_order=True)
        .with_columns(client_ip=pl.lit(DNS_SERVER), user=pl.lit(None, pl.String))
    )
    first = pl.concat([direct, forwarded]).sort("ts", maintain_order=True)
    return first.select(
        ts=pl.col("ts") - pl.duration(microseconds=pl.lit(pl.Series(rng.integers(2_000, 60_000, first.height)))),
        client_ip="client_ip",
        user="user",
        qname="host",
        dst_ip="dst_ip",
        fg_id="fg_id",
        fg_desc="fg_desc",
        sport="sport",
        dns_action=pl.lit("pass"),
    )


def _intf(ip: pl.Expr) -> pl.Expr:
    return (
        pl.when(ip.str.starts_with("10.40."))
        .then(pl.lit("staff-wifi"))
        .when(ip.str.contains(r"^10\.(21|31)\."))
        .then(pl.lit("pupil-wifi"))
        .otherwise(pl.lit("servers"))
    )
