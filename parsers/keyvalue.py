"""Vectorised key=value extraction and vendor-action mapping shared by the kv-shaped parsers.

One regex pass per wanted key over the whole column (never a dict per line). Three value styles:
- quoted (`key="a b"` or `key=ab`, Sophos, FortiGate style): `quoted_value`;
- TAB-separated (`key=a b<TAB>key2=c`, LEEF, Zscaler tab feeds): `tab_value`;
- space-separated with spaces inside values (CEF extensions): first `tabify_spaced`, which puts a TAB
  before every ` key=` (the CEF rule: the next key starts at the last space before an unescaped `=`),
  then `tab_value`.
"""

import re
from collections.abc import Sequence

import polars as pl

# A key: what CEF, LEEF and vendor kv formats use (`cs1Label`, `ad_domain`, `content-type`, `a.b[0]`).
KEY = r"[A-Za-z_][A-Za-z0-9_.\[\]-]*"


def tabify_spaced(text: pl.Expr) -> pl.Expr:
    """`a=x y b=z` -> `a=x y<TAB>b=z`: a run of blanks before `key=` becomes one TAB (escaped `\\=` stays)."""
    return text.str.replace_all(r"[ \t]+(" + KEY + r")=", "\t${1}=")


def tab_value(text: pl.Expr, key: str) -> pl.Expr:
    """Value of `key` in a TAB-separated key=value string (null when absent)."""
    return text.str.extract(r"(?:^|\t)" + re.escape(key) + r"=([^\t]*)", 1)


def tab_pairs(text: pl.Series, keys: Sequence[str], *, require_equals: bool = False) -> pl.DataFrame:
    """Columns `keys` from TAB-separated key=value strings, row-aligned with `text` (first occurrence wins).

    One split of every line into pairs and one pivot, instead of one regex pass per key: with 20-30 wanted
    keys this is several times faster than `tab_value` per key. With `require_equals`, a piece that is a
    bare key without `=` is skipped, which makes each column exactly `tab_value(text, key)`.
    """
    wanted = list(dict.fromkeys(keys))
    pairs = (
        pl.DataFrame({"t": text})
        .with_row_index("_r")
        .select("_r", pl.col("t").str.split("\t").alias("p"))
        .explode("p")
        .select("_r", pl.col("p").str.splitn("=", 2).struct.rename_fields(["k", "v"]).alias("s"))
        .unnest("s")
        .filter(pl.col("k").is_in(wanted) & (pl.col("v").is_not_null() | (not require_equals)))
    )
    base = pl.DataFrame({"_r": pl.int_range(0, len(text), eager=True, dtype=pl.UInt32)})
    if pairs.height:
        wide = pairs.pivot(on="k", index="_r", values="v", aggregate_function="first")
        base = base.join(wide, on="_r", how="left", maintain_order="left")
    # with_columns, not select: a select of only literals would collapse to one row.
    missing = [pl.lit(None, pl.String).alias(k) for k in wanted if k not in base.columns]
    return base.with_columns(missing).select(wanted)


def quoted_value(text: pl.Expr, key: str) -> pl.Expr:
    """Value of `key` in a blank-separated string where values with blanks are double-quoted."""
    raw = text.str.extract(r"(?:^|[\s,])" + re.escape(key) + r"=(\"[^\"]*\"?|[^\s\"]*)", 1)
    return raw.str.strip_prefix('"').str.strip_suffix('"')


def unescape_cef(value: pl.Expr) -> pl.Expr:
    """CEF/LEEF value escapes: `\\=`, `\\|`, `\\\\`, `\\n`, `\\r` (escaped backslash first kept aside)."""
    return (
        value.str.replace_all("\\\\", "\x00", literal=True)
        .str.replace_all("\\=", "=", literal=True)
        .str.replace_all("\\|", "|", literal=True)
        .str.replace_all("\\n", "\n", literal=True)
        .str.replace_all("\\r", "\r", literal=True)
        .str.replace_all("\x00", "\\", literal=True)
    )


def unescape_where_needed(frame: pl.DataFrame, columns: Sequence[str]) -> list[pl.Expr]:
    """`unescape_cef(col)` for each column that holds a backslash or NUL somewhere in the batch, else `col`.

    Both give the same values (every replacement needs one of those characters); most batches have none,
    which saves six passes per column.
    """
    needs = frame.select([pl.col(c).str.contains(r"[\\\x00]").any() for c in columns]).row(0)
    return [unescape_cef(pl.col(c)) if need else pl.col(c) for c, need in zip(columns, needs, strict=True)]


# Vendor action words seen across firewalls, proxies and cloud filters, lower-cased.
ACTION_WORDS: dict[str, str] = {
    **dict.fromkeys(
        [
            "allow", "allowed", "accept", "accepted", "pass", "passed", "permit", "permitted", "passthrough",
            "monitor", "monitored", "alert", "success", "succeeded", "ok", "exempt", "log", "logged",
            "observed", "notify", "isolate", "isolated",
        ],
        "allowed",
    ),
    **dict.fromkeys(
        [
            "block", "blocked", "deny", "denied", "drop", "dropped", "reject", "rejected", "reset",
            "reset-client", "reset-server", "reset-both", "block-url", "block-ip", "blocked-url", "sinkhole",
            "quarantine", "quarantined", "prevent", "prevented", "terminate", "terminated", "refuse",
            "refused", "nxdomain", "forbidden", "block-override", "override-lockout", "drop-icmp",
        ],
        "blocked",
    ),
    **dict.fromkeys(
        ["warn", "warned", "caution", "cautioned", "block-continue", "coach", "coached"], "warned"
    ),
    **dict.fromkeys(
        ["proceed", "proceeded", "continue", "continued", "override", "overridden", "bypass", "bypassed"],
        "proceeded",
    ),
    **dict.fromkeys(["error", "failed", "failure", "fail", "timeout"], "error"),
}


def vendor_action(word: pl.Expr, extra: dict[str, str] | None = None) -> pl.Expr:
    """Map a vendor's action word onto allowed/blocked/warned/proceeded/error; unknown words -> null."""
    table = {**ACTION_WORDS, **(extra or {})}
    lowered = word.str.strip_chars().str.to_lowercase()
    return lowered.replace_strict(table, default=None, return_dtype=pl.String)


def none_if(value: pl.Expr, *words: str) -> pl.Expr:
    """Null for vendor placeholders (`None`, `NA`, `any`) besides the `-`/empty that finish() nulls."""
    return pl.when(value.is_in(list(words))).then(None).otherwise(value)
