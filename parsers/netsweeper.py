"""Netsweeper request logs: a configurable delimited profile (no public specification exists).

Everything here is SYNTHETIC: Netsweeper publishes no raw log format and no samples. The default profile
follows the column list of the (Lenovo NetFilter / Netsweeper) WebAdmin "Request Logs" view, and the demo
generator writes exactly this profile. Real deployments may differ: the delimiter, the column order and the
timestamp format are set in vigil.toml `[netsweeper]`, and category numbers map to names through a table the
school supplies (`categories_file`; the shipped `parsers/data/netsweeper_categories.example.toml` is an
invented example).

Default layout (TAB-delimited): `server, timestamp, url, client_ip, client_name, event_type, event_data,
category_numbers, all_category_numbers, all_categories, destination_ip, interceptor_ip, logger, http_method,
user_agent, referrer`; timestamp `YYYY-MM-DD HH:MM:SS` in school-local time.

Output: ts, observer (`server`), url, client_ip, user or client_host from `client_name` (`alice`,
`SCHOOL\\alice` and `alice@school` are logins; a name matching `workstation_pattern`, by default upper-case
letters/digits/hyphens with a digit or hyphen, or ending in `$`, is a workstation), action, reason
(`event_data`), category (`all_categories` names when present win; else `category_numbers`, else
`all_category_numbers`, mapped to names; an unknown number stays as `category <n>`; `;`-joined), dst_ip,
method, user_agent, referrer.
Actions (`event_type`, case-insensitive): `Allowed` -> allowed, `Denied` -> blocked, `Warned` -> warned,
`Warn Proceeded` -> proceeded, `Error` -> error; any other value -> null action with the value kept in reason.
Config (`[netsweeper]`): `delimiter` (default TAB), `quote` (default none), `columns` (list, in order; names
outside the default set are read and ignored), `categories_file`, `timestamp_format` (strftime, or `epoch`,
`epoch_ms`, `iso8601`), `workstation_pattern`.
Worked example (synthetic): `ns01⇥2026-11-23 10:15:02⇥http://casino.example/⇥10.20.1.15⇥SCHOOL\\alice⇥Denied⇥
Category blocked⇥4⇥4,36⇥⇥203.0.113.9⇥⇥nslog⇥GET⇥Mozilla/5.0⇥-` -> user alice@school, action blocked,
category Gambling (from the example table), ts 10:15:02 Europe/London.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from parsers.base import BaseParser, SourceMeta, null_if_dash
from parsers.custom import parse_timestamp, split_delimited
from parsers.errors import ParserConfigError
from parsers.users import normalise_user

DEFAULT_COLUMNS = (
    "server", "timestamp", "url", "client_ip", "client_name", "event_type", "event_data", "category_numbers",
    "all_category_numbers", "all_categories", "destination_ip", "interceptor_ip", "logger", "http_method",
    "user_agent", "referrer",
)  # fmt: skip
EXAMPLE_CATEGORIES = Path(__file__).parent / "data" / "netsweeper_categories.example.toml"
EVENT_TYPES: Mapping[str, str] = {
    "allowed": "allowed",
    "denied": "blocked",
    "warned": "warned",
    "warn proceeded": "proceeded",
    "error": "error",
}
_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"


class NetsweeperConfig(BaseModel):
    """The `[netsweeper]` table of vigil.toml."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str = "\t"
    quote: str | None = None
    columns: list[str] = list(DEFAULT_COLUMNS)
    categories_file: Path = EXAMPLE_CATEGORIES
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    workstation_pattern: str = r"^(?:[A-Z0-9-]*[0-9-][A-Z0-9-]*|.*\$)$"

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: list[str]) -> list[str]:
        missing = [c for c in ("timestamp", "url") if c not in v]
        if missing:
            raise ValueError(f"columns must include {', '.join(missing)}")
        if len(set(v)) != len(v):
            raise ValueError("columns has duplicate names")
        return v

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str) -> str:
        if not v:
            raise ValueError("delimiter must not be empty")
        return v


def load_config() -> NetsweeperConfig:
    """The active `[netsweeper]` settings, validated; a mistake is one ParserConfigError line."""
    from vigil.settings import get_settings

    try:
        return NetsweeperConfig.model_validate(get_settings().section("netsweeper"))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ParserConfigError(
            f"config: [netsweeper] {loc}: {str(first['msg']).removeprefix('Value error, ')}"
        ) from exc


@lru_cache(maxsize=8)
def _categories(path: Path, mtime_ns: int) -> dict[str, str]:
    del mtime_ns  # part of the cache key only: an edited table is re-read
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh).get("categories", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParserConfigError(f"config: [netsweeper] categories_file {path}: {exc}") from exc
    if not isinstance(table, dict):
        raise ParserConfigError(f"config: [netsweeper] categories_file {path}: [categories] must be a table")
    return {str(k).strip(): str(v) for k, v in table.items()}


def category_table(path: Path) -> dict[str, str]:
    """Category number -> name from a school's TOML table (`[categories]`, `<n> = "name"`)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ParserConfigError(f"config: [netsweeper] categories_file {path}: {exc.strerror}") from exc
    return _categories(path, mtime)


def map_categories(numbers: pl.Expr, table: Mapping[str, str]) -> pl.Expr:
    """`4,36` -> `Gambling;Shopping` through the table; unknown numbers stay as `category <n>`."""
    n = pl.element().str.strip_chars()
    names = numbers.str.split(",").list.eval(
        n.replace_strict(dict(table), default=pl.lit("category ") + n, return_dtype=pl.String).filter(n != "")
    )
    joined = names.list.join(";")
    return pl.when(joined == "").then(None).otherwise(joined)


class NetsweeperParser(BaseParser):
    """Netsweeper request logs through a configurable delimited profile (synthetic default)."""

    name: ClassVar[str] = "netsweeper"
    description: ClassVar[str] = "Netsweeper request log, configurable delimited profile ([netsweeper] in vigil.toml)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "too_few_columns": "the line has too few delimited columns to reach the timestamp and url",
        "bad_timestamp": "the timestamp column does not fit `timestamp_format`",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines whose timestamp and event-type columns sit where the profile says."""
        lines = [s for s in sample if s and s.strip()]
        if not lines:
            return 0.0
        cfg = load_config()
        df = pl.DataFrame({"body": lines}, schema={"body": pl.String})
        s = df.select(split_delimited(pl.col("body"), cfg.delimiter, cfg.quote, cfg.columns).alias("s"))["s"]
        ts = s.struct.field("timestamp")
        ok = ts.str.contains(r"^\s*\d{4}-\d\d-\d\d[ T]\d\d:\d\d|^\s*\d{9,13}(?:\.\d+)?\s*$")
        if "event_type" in cfg.columns:
            ok = ok & s.struct.field("event_type").str.to_lowercase().is_in(list(EVENT_TYPES))
        ok = ok & s.struct.field("url").str.contains(r"^(?:[a-z][a-z0-9+.-]*://|[A-Za-z0-9.-]+(?::\d+)?(?:/|$))")
        return ok.arg_true().len() / ok.len()

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Split the configured columns, then map names, actions and categories."""
        cfg = load_config()
        table = category_table(cfg.categories_file)
        cols = batch.select(split_delimited(pl.col("body"), cfg.delimiter, cfg.quote, cfg.columns).alias("s")).unnest(
            "s"
        )
        for name in DEFAULT_COLUMNS:
            if name not in cols.columns:
                cols = cols.with_columns(pl.lit(None, pl.String).alias(name))
        c = pl.col
        ts = parse_timestamp(c("timestamp"), cfg.timestamp_format, meta.tz, meta.now)
        client = null_if_dash(c("client_name").str.strip_chars())
        is_host = client.str.contains(cfg.workstation_pattern) & ~client.str.contains(r"[\\@]")
        is_ip = client.str.contains(_IP)
        event = c("event_type").str.strip_chars().str.to_lowercase()
        action = event.replace_strict(dict(EVENT_TYPES), default=None, return_dtype=pl.String)
        reason = null_if_dash(c("event_data").str.strip_chars())
        all_names = null_if_dash(c("all_categories").str.strip_chars())
        category = pl.coalesce(
            all_names.str.split(",").list.eval(pl.element().str.strip_chars()).list.join(";"),
            map_categories(null_if_dash(c("category_numbers")), table),
            map_categories(null_if_dash(c("all_category_numbers")), table),
        )
        return cols.select(
            ts.alias("ts"),
            null_if_dash(c("server")).alias("observer"),
            null_if_dash(c("url").str.strip_chars()).alias("url"),
            null_if_dash(c("client_ip")).alias("client_ip"),
            pl.when(is_host | is_ip).then(None).otherwise(normalise_user(client)).alias("user"),
            pl.when(is_host & ~is_ip).then(client).otherwise(None).alias("client_host"),
            action.alias("action"),
            pl.when(action.is_null() & event.is_not_null() & (event != ""))
            .then(pl.concat_str(pl.lit("event type ") + c("event_type"), reason, separator=": ", ignore_nulls=True))
            .otherwise(reason)
            .alias("reason"),
            category.alias("category"),
            null_if_dash(c("destination_ip")).alias("dst_ip"),
            null_if_dash(c("http_method")).str.to_uppercase().alias("method"),
            null_if_dash(c("user_agent")).alias("user_agent"),
            null_if_dash(c("referrer")).alias("referrer"),
            pl.when(c("url").is_null())
            .then(pl.lit("too_few_columns"))
            .when(ts.is_null() & c("timestamp").is_not_null())
            .then(pl.lit("bad_timestamp"))
            .otherwise(None)
            .alias("_reject"),
        )
