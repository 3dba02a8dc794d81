"""Sophos Firewall (SFOS/XG) key=value logs and Sophos UTM 9 Web Protection (`httpproxy`) lines.

SFOS layout (Sophos Firewall syslog guide; blank-separated `key=value`, strings usually quoted, empty
values may be bare: `exceptions=`): `device="SFW" date=2026-11-23 time=17:05:06 timezone="GMT"
device_name="XG230" device_id=... log_id=010302602002 log_type="Content Filtering" log_component="HTTP"
log_subtype="Denied" fw_rule_id=5 user_name="alice@school.example" user_gp="Pupils" category="Gambling"
category_type="Unacceptable" url="https://casino.example/" contenttype="text/html" src_ip=10.1.2.3
dst_ip=198.51.100.66 protocol="TCP" src_port=51515 dst_port=443 sent_bytes=512 recv_bytes=0
domain=casino.example reason="..."`. SFOS 19.5+ writes `timestamp="2026-11-23T17:05:06+0000"`,
`user`/`user_group` instead of date/time and `user_name`/`user_gp`; both are read.
UTM layout: `2026:11:23-17:05:06 utm httpproxy[2412]: id="0002" severity="info" sys="SecureWeb"
sub="http" name="web request blocked" action="block" method="GET" srcip="10.1.2.3" dstip="..."
user="alice" group="Pupils" ad_domain="SCHOOL" statuscode="403" size="0" url="http://..."
referer="..." ua="..." category="105" categoryname="Gambling" content-type="text/html" reason="..."`
(the `YYYY:MM:DD-hh:mm:ss host prog[pid]:` prefix is read here; a syslog relay's envelope is stripped before).

Output: ts (device local time in the source timezone; SFOS `timezone=` names such as GMT/BST are not
trusted, the ISO `timestamp=` offset is), observer, user (UTM `user` + `ad_domain` -> `user@domain`),
user_group, client_ip, dst_ip, dst_port, action, reason, category, method, url, status, bytes,
user_agent, referrer, content_type.
Actions: SFOS `log_subtype` Allowed -> allowed, Denied/Dropped -> blocked, Warned -> warned,
Proceeded -> proceeded; UTM `action` pass -> allowed, block -> blocked, warn -> warned, and message
id 0072 ("warned and proceeded") -> proceeded, 0003 (internal error) -> error.
Cannot tell us: SFOS firewall lines have no URL; UTM `category` is numeric (categoryname is used).
Worked example (the SFOS line above): action blocked, user alice@school.example, category Gambling.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta
from parsers.keyvalue import none_if, quoted_value, vendor_action
from parsers.timeutil import iso_to_utc, local_to_utc
from parsers.users import normalise_user

_SFOS = r'(?:^|\s)(?:log_type="[^"]*"|device="SFW")'
_SFOS_STRICT = r'(?:^|\s)log_type="[^"]*"\s+log_component="[^"]*"\s+log_subtype="'
_UTM = r'(?:^|\s)id="\d{4}"\s+severity="[a-z]+"\s+sys="'
_UTM_PREFIX = r"^(\d{4}:\d\d:\d\d-\d\d:\d\d:\d\d)(?:\.\d+)?(?:[+-]\d\d:?\d\d)? (\S+) [^:\s]+(?:\[\d+\])?: "
_KEYS = (
    "log_type", "log_subtype", "timestamp", "date", "time", "user", "ad_domain", "id", "action", "fw_rule_id",
    "device_name", "user_name", "user_gp", "user_group", "group", "src_ip", "srcip", "dst_ip", "dstip",
    "dst_port", "reason", "activityname", "name", "category", "categoryname", "method", "url", "status_code",
    "statuscode", "recv_bytes", "size", "sent_bytes", "user_agent", "ua", "referer", "contenttype",
    "content-type",
)
_UNSUPPORTED_TYPES = ["Event", "System Health", "Admin Event"]
_SFOS_SUBTYPES = {"dropped": "blocked", "denied": "blocked", "warned": "warned", "proceeded": "proceeded"}


class SophosParser(BaseParser):
    """Sophos Firewall (SFOS) web/firewall key=value logs and Sophos UTM httpproxy logs."""

    name: ClassVar[str] = "sophos"
    description: ClassVar[str] = "Sophos Firewall (SFOS/XG) key=value and Sophos UTM httpproxy web logs"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_sophos_kv": "neither an SFOS record (log_type=...) nor UTM (id=\"nnnn\" severity=.. sys=..)",
        "unsupported_log_type": "an SFOS event/system-health record, which carries no web or traffic event",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines that look like SFOS or UTM records."""
        lines = [s for s in sample if s and s.strip()]
        if not lines:
            return 0.0
        s = pl.Series(lines, dtype=pl.String)
        hit = s.str.contains(_SFOS_STRICT) | s.str.contains(_UTM) | (
            s.str.contains(r'(?:^|\s)device="SFW"') & s.str.contains(r"(?:^|\s)log_id=")
        )
        return float(hit.cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """One vectorised extraction per key; SFOS and UTM rows are told apart per line."""
        body = pl.col("body")
        pre = batch.select(body.alias("b"), body.str.extract_groups(_UTM_PREFIX).alias("p")).unnest("p")
        pre = pre.rename({pre.columns[1]: "_pts", pre.columns[2]: "_phost"})
        # Each key is extracted once into its own column (eager select does not share subexpressions).
        pre = pre.with_columns(
            pl.col("b").str.contains(_UTM).alias("_utm"),
            pl.col("b").str.contains(_SFOS).alias("_sfos"),
            *[none_if(quoted_value(pl.col("b"), k), "").alias(f"_k_{k}") for k in _KEYS],
        )

        def kv(key: str) -> pl.Expr:
            return pl.col(f"_k_{key}")

        utm = pl.col("_utm")
        sfos = ~utm & pl.col("_sfos")
        log_type = kv("log_type")

        sfos_ts = pl.coalesce(
            iso_to_utc(kv("timestamp"), meta.tz),
            local_to_utc(
                (kv("date") + pl.lit(" ") + kv("time")).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
                meta.tz,
            ),
        )
        utm_ts = local_to_utc(pl.col("_pts").str.to_datetime("%Y:%m:%d-%H:%M:%S", strict=False), meta.tz)

        utm_user_raw = kv("user")
        domain = kv("ad_domain")
        utm_user = (
            pl.when(domain.is_not_null() & (domain != "") & ~utm_user_raw.str.contains(r"[@\\]"))
            .then(utm_user_raw + pl.lit("@") + domain)
            .otherwise(utm_user_raw)
        )
        msg_id = kv("id")
        utm_action = (
            pl.when(msg_id == "0072")
            .then(pl.lit("proceeded"))
            .when(msg_id == "0003")
            .then(pl.lit("error"))
            .otherwise(vendor_action(kv("action")))
        )
        rule = pl.lit("firewall rule ") + kv("fw_rule_id")

        def pick(sfos_expr: pl.Expr, utm_expr: pl.Expr) -> pl.Expr:
            return pl.when(utm).then(utm_expr).when(sfos).then(sfos_expr)

        def both(key: str) -> pl.Expr:
            return pl.when(utm | sfos).then(kv(key))

        return pre.select(
            pick(sfos_ts, utm_ts).alias("ts"),
            pick(kv("device_name"), pl.col("_phost")).alias("observer"),
            normalise_user(pick(pl.coalesce(kv("user_name"), kv("user")), utm_user)).alias("user"),
            pick(pl.coalesce(kv("user_gp"), kv("user_group")), kv("group")).alias("user_group"),
            pick(kv("src_ip"), kv("srcip")).alias("client_ip"),
            pick(kv("dst_ip"), kv("dstip")).alias("dst_ip"),
            pick(kv("dst_port").cast(pl.Int32, strict=False), pl.lit(None, pl.Int32)).alias("dst_port"),
            pick(vendor_action(kv("log_subtype"), _SFOS_SUBTYPES), utm_action).alias("action"),
            pick(pl.coalesce(kv("reason"), kv("activityname"), rule), pl.coalesce(kv("name"), kv("reason")))
            .str.strip_chars()
            .alias("reason"),
            pick(kv("category"), kv("categoryname")).str.strip_chars().alias("category"),
            both("method").alias("method"),
            both("url").alias("url"),
            pick(kv("status_code"), kv("statuscode")).cast(pl.Int32, strict=False).alias("status"),
            pick(kv("recv_bytes"), kv("size")).cast(pl.Int64, strict=False).alias("bytes_in"),
            pick(kv("sent_bytes"), pl.lit(None, pl.String)).cast(pl.Int64, strict=False).alias("bytes_out"),
            pick(kv("user_agent"), kv("ua")).alias("user_agent"),
            both("referer").alias("referrer"),
            pick(kv("contenttype"), kv("content-type")).alias("content_type"),
            pl.when(~utm & ~sfos)
            .then(pl.lit("not_sophos_kv"))
            .when(sfos & log_type.is_in(_UNSUPPORTED_TYPES))
            .then(pl.lit("unsupported_log_type"))
            .otherwise(None)
            .alias("_reject"),
        )
