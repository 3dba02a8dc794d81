"""Blocklists in the UT1/squidGuard layout: import, compiled storage, fast suffix matching, categorising events.

Layout read: `<DIR>/<category>/domains` (a domain also covers its subdomains, squidGuard-style; IP literals
allowed) and `<DIR>/<category>/urls` (`host/path` prefixes). `expressions` files are not used.
Compiled form: `<data>/lists/<name>/{domains,urls,ips}.parquet` + `meta.json`, one directory per imported
list set, replaced atomically on re-import. Matching runs once per distinct host (hosts repeat heavily in
logs): each host is exploded into its dotted suffixes and joined against the domain table; the most
specific suffix wins. Categories identical to another (UT1's `proxy` is a copy of `redirector`) are stored
once, under the preferred name, with the aliases recorded in meta.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from vigil.errors import ConfigError, InputError

DATA_DIR = Path(__file__).parent / "data" / "circumvention"
IPV4 = r"^\d{1,3}(?:\.\d{1,3}){3}$"
# Aliases of one list are stored once; the first name of this order that is present wins.
_PREFERRED = ("redirector", "adult", "drogue", "agressif", "residential-proxies")
_SEP = ";"


@dataclass(frozen=True)
class ListCategory:
    """How one list category maps into Vigil: a Vigil category and the severity of an allowed hit (0 = none)."""

    vigil: str
    alert: int


@lru_cache(maxsize=1)
def list_category_map() -> dict[str, ListCategory]:
    """The shipped list-category mapping (detectors/data/circumvention/categories.toml `[lists]`)."""
    with (DATA_DIR / "categories.toml").open("rb") as fh:
        raw = tomllib.load(fh)["lists"]
    return {name: ListCategory(str(v.get("vigil", "")), int(v.get("alert", 0))) for name, v in raw.items()}


def map_category(category: str) -> ListCategory:
    """Mapping of a list category name; unknown categories annotate only."""
    return list_category_map().get(category, ListCategory("", 0))


# --- import -------------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What one import produced."""

    name: str
    path: Path
    domains: dict[str, int] = field(default_factory=dict)
    urls: dict[str, int] = field(default_factory=dict)
    ips: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    skipped: int = 0


def _clean_lines(path: Path) -> list[str]:
    out: list[str] = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            entry = line.strip().lower()
            if not entry or entry.startswith("#"):
                continue
            entry = entry.split()[0].removeprefix("*.").lstrip(".").rstrip(".")
            if entry:
                out.append(entry)
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(names: list[str]) -> str:
    for preferred in _PREFERRED:
        if preferred in names:
            return preferred
    return sorted(names)[0]


def _category_dirs(src: Path) -> list[Path]:
    if not src.is_dir():
        raise InputError(f"lists: {src} is not a directory")
    dirs = sorted(p for p in src.iterdir() if p.is_dir() and ((p / "domains").is_file() or (p / "urls").is_file()))
    if not dirs:
        raise InputError(f"lists: {src} has no <category>/domains or <category>/urls files (UT1/squidGuard layout)")
    return dirs


def import_lists(src: Path, lists_root: Path, name: str | None = None) -> ImportSummary:
    """Compile a UT1/squidGuard-layout directory into `<lists_root>/<name>/`, replacing that set atomically."""
    set_name = (name or src.resolve().name).strip().lower()
    if not set_name or "/" in set_name or set_name.startswith("."):
        raise ConfigError(f"lists: invalid list set name {set_name!r}")
    summary = ImportSummary(set_name, lists_root / set_name)
    dirs = _category_dirs(src)
    # Identical files under several names (UT1 symlink copies) are stored once, under a canonical name.
    groups: dict[tuple[str, str], list[str]] = {}
    for d in dirs:
        for kind in ("domains", "urls"):
            if (d / kind).is_file():
                groups.setdefault((kind, _digest(d / kind)), []).append(d.name)
    keep: dict[str, set[str]] = {"domains": set(), "urls": set()}
    for (kind, _), names in groups.items():
        canon = _canonical(names)
        keep[kind].add(canon)
        for other in names:
            if other != canon and kind == "domains":
                summary.aliases[other] = canon
    dom_rows: dict[str, list[str]] = {"domain": [], "category": []}
    ip_rows: dict[str, list[str]] = {"ip": [], "category": []}
    url_rows: dict[str, list[str]] = {"host": [], "path": [], "category": []}
    for d in dirs:
        cat = d.name
        if cat in keep["domains"]:
            for entry in _clean_lines(d / "domains"):
                entry = entry.removesuffix("/32")
                if _is_ip(entry):
                    ip_rows["ip"].append(entry)
                    ip_rows["category"].append(cat)
                elif "." in entry and "/" not in entry:
                    dom_rows["domain"].append(entry)
                    dom_rows["category"].append(cat)
                else:
                    summary.skipped += 1
        if cat in keep["urls"]:
            for entry in _clean_lines(d / "urls"):
                host, _, path = entry.partition("/")
                if host.startswith("www."):
                    host = host[4:]
                url_rows["host"].append(host)
                url_rows["path"].append("/" + path)
                url_rows["category"].append(cat)
    domains = pl.DataFrame(dom_rows, schema={"domain": pl.String, "category": pl.String}).unique().sort("domain")
    ips = pl.DataFrame(ip_rows, schema={"ip": pl.String, "category": pl.String}).unique().sort("ip")
    urls = pl.DataFrame(url_rows, schema={"host": pl.String, "path": pl.String, "category": pl.String}).unique().sort(
        "host", "path"
    )
    for frame, target, key in ((domains, summary.domains, "category"), (ips, summary.ips, "category"),
                               (urls, summary.urls, "category")):
        for cat, n in frame.group_by(key).len().sort(key).iter_rows():
            target[str(cat)] = int(n)
    meta = {
        "name": set_name,
        "source": str(src.resolve()),
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "aliases": summary.aliases,
        "domains": summary.domains,
        "urls": summary.urls,
        "ips": summary.ips,
        "skipped": summary.skipped,
    }
    _write_set(lists_root, set_name, domains, urls, ips, meta)
    load_lists.cache_clear()
    return summary


def import_ip_list(path: Path, lists_root: Path, name: str, category: str) -> ImportSummary:
    """Import a plain file of IP addresses (e.g. Tor relays from Onionoo) as list set `name`, one category."""
    if not path.is_file():
        raise InputError(f"lists: {path} is not a file")
    ips = sorted({e.removesuffix("/32") for e in _clean_lines(path) if _is_ip(e.removesuffix("/32"))})
    if not ips:
        raise InputError(f"lists: {path} contains no IP addresses")
    summary = ImportSummary(name, lists_root / name, ips={category: len(ips)})
    frame = pl.DataFrame({"ip": ips, "category": [category] * len(ips)})
    empty_dom = pl.DataFrame(schema={"domain": pl.String, "category": pl.String})
    empty_url = pl.DataFrame(schema={"host": pl.String, "path": pl.String, "category": pl.String})
    meta = {"name": name, "source": str(path.resolve()), "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "aliases": {}, "domains": {}, "urls": {}, "ips": summary.ips, "skipped": 0}
    _write_set(lists_root, name, empty_dom, empty_url, frame, meta)
    load_lists.cache_clear()
    return summary


def _write_set(root: Path, name: str, domains: pl.DataFrame, urls: pl.DataFrame, ips: pl.DataFrame,
               meta: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = root / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    domains.write_parquet(tmp / "domains.parquet", compression="zstd")
    urls.write_parquet(tmp / "urls.parquet", compression="zstd")
    ips.write_parquet(tmp / "ips.parquet", compression="zstd")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    final = root / name
    old = root / f".{name}.{os.getpid()}.old"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


# --- loading and matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lists:
    """All imported list sets, merged: one row per domain/IP/url prefix with `;`-joined labels (`set:category`)."""

    domains: pl.DataFrame  # domain, labels, vigil, alert, categories (list[str] of raw category names)
    urls: pl.DataFrame  # host, path, labels, vigil, alert
    ips: pl.DataFrame  # ip, labels, vigil, alert
    sets: tuple[dict[str, Any], ...] = ()

    @property
    def empty(self) -> bool:
        """True when no list set is imported."""
        return self.domains.height == 0 and self.urls.height == 0 and self.ips.height == 0

    @classmethod
    def none(cls) -> Lists:
        """No lists at all (nothing imported)."""
        return cls(_merge([], "domain"), _merge([], "host"), _merge([], "ip"))


def _with_mapping(frame: pl.DataFrame, set_name: str) -> pl.DataFrame:
    mapping = list_category_map()
    cats = frame["category"].unique().to_list()
    vigil = {c: mapping.get(c, ListCategory("", 0)).vigil for c in cats}
    alert = {c: mapping.get(c, ListCategory("", 0)).alert for c in cats}
    return frame.with_columns(
        (pl.lit(set_name + ":") + pl.col("category")).alias("label"),
        pl.col("category").replace_strict(vigil, default="", return_dtype=pl.String).alias("vigil"),
        pl.col("category").replace_strict(alert, default=0, return_dtype=pl.Int32).alias("alert"),
    )


def _merge(frames: list[pl.DataFrame], key: str) -> pl.DataFrame:
    keys = [key] if key != "host" else ["host", "path"]
    if not frames:
        schema: dict[str, Any] = dict.fromkeys(keys, pl.String)
        schema.update({"labels": pl.String, "vigil": pl.String, "alert": pl.Int32, "categories": pl.List(pl.String)})
        return pl.DataFrame(schema=schema)
    both = pl.concat(frames, how="vertical_relaxed").sort([*keys, "label"])
    return both.group_by(keys, maintain_order=True).agg(
        pl.col("label").unique(maintain_order=True).str.join(_SEP).alias("labels"),
        # The Vigil category of the strongest alerting category; else the first non-empty one.
        pl.col("vigil").sort_by(pl.col("alert"), descending=True).filter(pl.col("vigil") != "").first().alias("vigil"),
        pl.col("alert").max().alias("alert"),
        pl.col("category").unique(maintain_order=True).alias("categories"),
    )


def _signature(root: Path) -> tuple[tuple[str, float], ...]:
    if not root.is_dir():
        return ()
    return tuple(sorted((p.name, (p / "meta.json").stat().st_mtime) for p in root.iterdir()
                        if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").is_file()))


def lists_for(root: Path) -> Lists:
    """The merged lists under a root (cached until a set is re-imported)."""
    return load_lists(root, _signature(root))


@lru_cache(maxsize=4)
def load_lists(root: Path, signature: tuple[tuple[str, float], ...] = ()) -> Lists:
    """Load and merge every list set under root (use `lists_for`, which keys the cache on file times)."""
    doms, urls, ips, metas = [], [], [], []
    for set_name, _ in signature:
        d = root / set_name
        metas.append(json.loads((d / "meta.json").read_text()))
        doms.append(_with_mapping(pl.read_parquet(d / "domains.parquet"), set_name))
        urls.append(_with_mapping(pl.read_parquet(d / "urls.parquet"), set_name))
        ips.append(_with_mapping(pl.read_parquet(d / "ips.parquet"), set_name))
    return Lists(_merge(doms, "domain"), _merge(urls, "host"), _merge(ips, "ip"), tuple(metas))


def match_hosts(hosts: pl.Series, lists: Lists) -> pl.DataFrame:
    """For each distinct host (or IP literal) that is listed: host, labels, vigil, alert, categories.

    A domain entry covers the domain and all its subdomains; the most specific listed suffix wins.
    """
    empty = pl.DataFrame(schema={"host": pl.String, "labels": pl.String, "vigil": pl.String, "alert": pl.Int32,
                                 "categories": pl.List(pl.String)})
    if lists.empty:
        return empty
    uniq = pl.DataFrame({"host": hosts.drop_nulls().unique()})
    if uniq.height == 0:
        return empty
    is_ip = pl.col("host").str.contains(IPV4) | pl.col("host").str.contains(":")
    by_ip = uniq.filter(is_ip).join(lists.ips.rename({"ip": "host"}), on="host", how="inner")
    names = uniq.filter(~is_ip).with_columns(pl.col("host").str.split(".").alias("_l"))
    exploded = names.with_columns(pl.int_ranges(0, pl.col("_l").list.len() - 1).alias("_k")).explode("_k")
    exploded = exploded.with_columns(pl.col("_l").list.slice(pl.col("_k")).list.join(".").alias("domain"))
    hits = exploded.drop_nulls("_k").join(lists.domains, on="domain", how="inner")
    by_name = hits.sort("_k").group_by("host", maintain_order=True).first().select(empty.columns)
    return pl.concat([by_name, by_ip.select(empty.columns)], how="vertical_relaxed")


def match_urls(frame: pl.DataFrame, lists: Lists) -> pl.DataFrame:
    """Rows (`_row`, labels, vigil, alert) whose host (without www.) and path start with a listed url prefix."""
    out_schema = {"_row": pl.UInt32, "labels": pl.String, "vigil": pl.String, "alert": pl.Int32}
    if lists.urls.height == 0:
        return pl.DataFrame(schema=out_schema)
    cand = frame.select(
        "_row", pl.col("host").str.strip_prefix("www.").alias("host"), pl.col("path").fill_null("/").alias("_p")
    ).filter(pl.col("host").is_in(lists.urls["host"].implode()))
    if cand.height == 0:
        return pl.DataFrame(schema=out_schema)
    joined = cand.join(lists.urls, on="host", how="inner").filter(pl.col("_p").str.starts_with(pl.col("path")))
    return joined.sort("alert", descending=True).group_by("_row", maintain_order=True).first().select(
        list(out_schema)
    ).cast(out_schema)  # type: ignore[arg-type]


def categorise(events: pa.Table, lists: Lists) -> pa.Table:
    """Fill a null `category` from the lists (`set:category` labels, e.g. `ut1:redirector`); others unchanged."""
    if events.num_rows == 0 or lists.empty:
        return events
    df = pl.from_arrow(events)
    assert isinstance(df, pl.DataFrame)
    need = df.filter(pl.col("category").is_null())
    if need.height == 0:
        return events
    hits = match_hosts(pl.concat([need["host"], need["dst_ip"]]), lists).select("host", "labels")
    mapping = dict(zip(hits["host"].to_list(), hits["labels"].to_list(), strict=True))
    if not mapping:
        return events
    by_host = pl.col("host").replace_strict(mapping, default=None, return_dtype=pl.String)
    by_ip = pl.col("dst_ip").replace_strict(mapping, default=None, return_dtype=pl.String)
    out = df.with_columns(pl.coalesce(pl.col("category"), by_host, by_ip).alias("category"))
    return out.to_arrow().cast(events.schema)


def _is_ip(entry: str) -> bool:
    if ":" in entry:
        return all(c in "0123456789abcdef:." for c in entry) and entry.count(":") >= 2
    parts = entry.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def describe(lists_root: Path) -> list[dict[str, Any]]:
    """The meta.json of every imported set (for `vigil lists show`)."""
    return [dict(m) for m in lists_for(lists_root).sets]
