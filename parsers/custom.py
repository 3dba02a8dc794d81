"""User-defined formats declared in vigil.toml `[formats.<name>]`, without code (parser name `<name>`).

Kinds:
- `regex`: `pattern` with named groups (`(?P<user>\\S+)`), matched against the whole line body;
- `delimited`: `delimiter` (one character or a string), optional `quote` (a field wrapped in it may contain
  the delimiter; a doubled quote inside is a literal quote), `columns` (names, in order);
- `kv`: `pair_separator` (default a space) and `kv_separator` (default `=`); values may be double-quoted.
`fields` maps output columns (EVENT_SCHEMA names) to group / column / key names; `ts` is required.
`timestamp_format` is a strftime pattern (local time in the source's timezone unless it has `%z`; a pattern
without a year gets the inferred year), or `epoch`, `epoch_ms` or `iso8601`. `actions` maps vendor words
(case-insensitive) to the normalised actions; a word already in the vocabulary passes through; any other word
rejects the line (`unmapped_action`) so that a gap in the table is seen, not silently stored.
`default_action` applies where the format has no action field. `detect` is a regex for auto-detection (the
share of sample lines it matches); without it a regex format scores with its own pattern, and delimited and
kv formats are never auto-detected (name them with `--format`).

Example (hypothetical Smoothwall-like CSV; see docs/formats.md):
    [formats.smoothwall_csv]
    kind = "delimited"
    columns = ["time", "user", "ip", "url", "result", "category"]
    timestamp_format = "%Y-%m-%d %H:%M:%S"
    detect = '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,'
    fields = { ts = "time", user = "user", client_ip = "ip", url = "url", action = "result",
               category = "category" }
    actions = { ALLOWED = "allowed", BLOCKED = "blocked" }
Worked example: `2026-11-23 09:15:02,SCHOOL\\alice,10.1.2.3,http://x.test/,BLOCKED,Gambling` -> user
alice@school, action blocked, category Gambling, ts 09:15:02 local time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from parsers.base import Parser, ParseResult, SourceMeta, detect_by_pattern, finish
from parsers.errors import ParserConfigError
from parsers.schema import ACTIONS, EVENT_SCHEMA
from parsers.timeutil import epoch_to_utc, iso_to_utc, local_to_utc, with_inferred_year
from parsers.users import normalise_user

_SETTABLE = tuple(n for n in EVENT_SCHEMA.names if n not in ("raw", "origin", "school", "source"))
_INT_COLS = {f.name: f.type for f in EVENT_SCHEMA if str(f.type).startswith("int")}
_GROUP_NAME = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")


def parse_timestamp(text: pl.Expr, fmt: str, tz: str, now: datetime) -> pl.Expr:
    """Text to UTC by a strftime pattern or `epoch` / `epoch_ms` / `iso8601` (shared by netsweeper)."""
    text = text.str.strip_chars()
    if fmt == "epoch":
        return epoch_to_utc(text)
    if fmt == "epoch_ms":
        return (
            (text.cast(pl.Float64, strict=False) * 1000)
            .round(0)
            .cast(pl.Int64, strict=False)
            .cast(pl.Datetime("us", "UTC"))
        )
    if fmt == "iso8601":
        return iso_to_utc(text, tz)
    if "%z" in fmt:
        return text.str.to_datetime(fmt, strict=False, time_unit="us").dt.convert_time_zone("UTC")
    if not any(d in fmt for d in ("%Y", "%y", "%G", "%s", "%c", "%D", "%F")):
        return with_inferred_year(text, fmt, tz, now)
    return local_to_utc(text.str.to_datetime(fmt, strict=False, time_unit="us"), tz)


def split_delimited(line: pl.Expr, delimiter: str, quote: str | None, names: Sequence[str]) -> pl.Expr:
    """A struct with one string field per name; missing trailing fields are null, extras go to the last."""
    n = len(names)
    if not quote:
        parts = line.str.splitn(delimiter, n)
        return pl.struct(parts.struct.field(f"field_{i}").alias(name) for i, name in enumerate(names))
    d, q = re.escape(delimiter), re.escape(quote)
    field = [rf"(?:{q}(?P<q{i}>(?:[^{q}]|{q}{q})*){q}|(?P<u{i}>[^{q}]*?))" for i in range(n)]
    pattern = field[-1] + rf"(?:{d}.*)?"  # columns beyond the configured ones are ignored
    for i in range(n - 2, -1, -1):  # nested optional tails: a short line leaves its last columns null
        pattern = f"{field[i]}(?:{d}{pattern})?"
    g = line.str.extract_groups(f"^{pattern}$")
    return pl.struct(
        pl.coalesce(g.struct.field(f"q{i}").str.replace_all(q + q, quote, literal=True), g.struct.field(f"u{i}")).alias(
            name
        )
        for i, name in enumerate(names)
    )


def kv_value(line: pl.Expr, key: str, pair_sep: str = " ", kv_sep: str = "=") -> pl.Expr:
    """The value of `key` in a key/value line: double-quoted (`\\` escapes) or up to the next separator."""
    p, k, s = re.escape(pair_sep), re.escape(key), re.escape(kv_sep)
    raw = line.str.extract(rf'(?:^|{p}){k}{s}("(?:[^"\\]|\\.)*"?|.*?)(?:{p}|$)', 1)
    inner = raw.str.slice(1).str.strip_suffix('"').str.replace_all(r"\\(.)", "$1")
    return pl.when(raw.str.starts_with('"')).then(inner).otherwise(raw)


class FormatConfig(BaseModel):
    """One `[formats.<name>]` table."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["regex", "delimited", "kv"]
    description: str = ""
    pattern: str | None = None
    delimiter: str = ","
    quote: str | None = '"'
    columns: list[str] = []
    pair_separator: str = " "
    kv_separator: str = "="
    fields: dict[str, str]
    timestamp_format: str = "iso8601"
    actions: dict[str, str] = {}
    default_action: str | None = None
    detect: str | None = None

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(_SETTABLE))
        if unknown:
            raise ValueError(f"unknown output column(s) {', '.join(unknown)}; use EVENT_SCHEMA names")
        if "ts" not in v:
            raise ValueError("a `ts` field is required")
        return v

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(a for a in v.values() if a not in ACTIONS)
        if bad:
            raise ValueError(f"actions must map to {', '.join(ACTIONS)}; got {', '.join(bad)}")
        return {k.lower(): a for k, a in v.items()}

    @field_validator("default_action")
    @classmethod
    def _default_action(cls, v: str | None) -> str | None:
        if v is not None and v not in ACTIONS:
            raise ValueError(f"default_action must be one of {', '.join(ACTIONS)}")
        return v

    @model_validator(mode="after")
    def _kind(self) -> FormatConfig:
        if self.kind == "regex":
            if not self.pattern:
                raise ValueError("kind = 'regex' needs a `pattern` with named groups")
            sources = set(_GROUP_NAME.findall(self.pattern))
        elif self.kind == "delimited":
            if not self.columns or not self.delimiter:
                raise ValueError("kind = 'delimited' needs `columns` and a non-empty `delimiter`")
            if len(set(self.columns)) != len(self.columns):
                raise ValueError("`columns` has duplicate names")
            sources = set(self.columns)
        else:
            if not self.pair_separator or not self.kv_separator:
                raise ValueError("kind = 'kv' needs non-empty `pair_separator` and `kv_separator`")
            sources = set(self.fields.values())
        missing = sorted(set(self.fields.values()) - sources)
        if missing:
            raise ValueError(f"fields refer to {', '.join(missing)}, which the {self.kind} layout does not define")
        for label, regex in (("pattern", self.pattern), ("detect", self.detect)):
            if regex is not None:
                try:
                    pl.Series(["x"], dtype=pl.String).str.contains(regex)
                except pl.exceptions.ComputeError as exc:
                    why = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
                    raise ValueError(f"`{label}` is not a valid regex ({why[0] if why else 'parse error'})") from exc
        return self


class CustomParser:
    """A parser built from a `[formats.<name>]` table."""

    def __init__(self, name: str, cfg: FormatConfig) -> None:
        self.name = name
        self.cfg = cfg
        self.description = cfg.description or f"user-defined {cfg.kind} format from [formats.{name}]"
        self.failure_reasons: Mapping[str, str] = {
            "no_match": "the line does not match the format's pattern (regex) or has no fields",
            "bad_timestamp": "the timestamp field is present but does not fit `timestamp_format`",
            "unmapped_action": "the action word is in neither the vocabulary nor the `actions` table",
        }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of sample lines matching `detect` (or a regex format's own pattern); else 0."""
        pattern = self.cfg.detect or (self.cfg.pattern if self.cfg.kind == "regex" else None)
        return detect_by_pattern(sample, pattern) if pattern else 0.0

    def _fields(self, body: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(struct of source values by name, matched-flag) for the configured layout."""
        cfg = self.cfg
        wanted = sorted(set(cfg.fields.values()))
        if cfg.kind == "regex":
            assert cfg.pattern is not None
            g = body.str.extract_groups(cfg.pattern)
            return g, body.str.contains(cfg.pattern)
        if cfg.kind == "delimited":
            s = split_delimited(body, cfg.delimiter, cfg.quote, cfg.columns)
            has_sep = body.str.contains(cfg.delimiter, literal=True) if len(cfg.columns) > 1 else pl.lit(True)
            return s, has_sep
        s = pl.struct(kv_value(body, k, cfg.pair_separator, cfg.kv_separator).alias(k) for k in wanted)
        return s, body.str.contains(re.escape(cfg.kv_separator))

    def parse_batch(self, batch: pl.DataFrame, *, meta: SourceMeta) -> ParseResult:
        """Extract the configured fields, type them, and finish like any built-in parser."""
        if batch.height == 0:
            return ParseResult.empty()
        cfg = self.cfg
        values, matched = self._fields(pl.col("body"))
        df = batch.select(values.alias("_v"), matched.alias("_m"))
        src = {out: pl.col("_v").struct.field(name) for out, name in cfg.fields.items()}
        cols: dict[str, pl.Expr] = {}
        for out, expr in src.items():
            if out == "ts":
                cols[out] = parse_timestamp(expr, cfg.timestamp_format, meta.tz, meta.now)
            elif out == "user":
                cols[out] = normalise_user(expr)
            elif out in _INT_COLS:
                cols[out] = expr.str.strip_chars().cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
            elif out != "action":
                cols[out] = expr
        word = src.get("action")
        if word is not None:
            lower = word.str.strip_chars().str.to_lowercase()
            mapped = lower.replace_strict(dict(cfg.actions), default=None, return_dtype=pl.String)
            action = pl.coalesce(mapped, pl.when(lower.is_in(list(ACTIONS))).then(lower), pl.lit(cfg.default_action))
            unmapped = lower.is_not_null() & (lower != "") & (lower != "-") & mapped.is_null() & ~lower.is_in(ACTIONS)
        else:
            action, unmapped = pl.lit(cfg.default_action, pl.String), pl.lit(False)
        cols["action"] = action
        reject = (
            pl.when(~pl.col("_m").fill_null(False))
            .then(pl.lit("no_match"))
            .when(src["ts"].is_not_null() & (src["ts"].str.strip_chars() != "") & cols["ts"].is_null())
            .then(pl.lit("bad_timestamp"))
            .when(unmapped)
            .then(pl.lit("unmapped_action"))
            .otherwise(None)
        )
        parsed = df.select(*(e.alias(k) for k, e in cols.items()), reject.alias("_reject"))
        return finish(batch, parsed, source=self.name, meta=meta)


def build_custom_parsers(formats: Mapping[str, Any], reserved: Sequence[str] = ()) -> list[Parser]:
    """Validate `[formats.*]` tables into parsers; a mistake raises ParserConfigError with one line."""
    out: list[Parser] = []
    for name, table in formats.items():
        where = f"config: [formats.{name}]"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ParserConfigError(f"{where}: format names are lower-case letters, digits and _")
        if name in reserved:
            raise ParserConfigError(f"{where}: {name!r} is a built-in parser name; choose another")
        if not isinstance(table, Mapping):
            raise ParserConfigError(f"{where}: must be a table")
        try:
            cfg = FormatConfig.model_validate(dict(table))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            msg = str(first["msg"]).removeprefix("Value error, ")
            raise ParserConfigError(f"{where}: {loc + ': ' if loc else ''}{msg}") from exc
        out.append(CustomParser(name, cfg))
    return out


def configured_custom_parsers() -> list[Parser]:
    """Parsers for the `[formats.<name>]` tables of the active configuration."""
    from parsers.registry import BUILTIN_PARSERS
    from vigil.settings import get_settings

    return build_custom_parsers(get_settings().section("formats"), [p.name for p in BUILTIN_PARSERS])
