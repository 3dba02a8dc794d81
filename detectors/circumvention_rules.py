"""Circumvention signatures (data: detectors/data/circumvention/signatures.toml) and filter-category mapping,
compiled into polars expressions and evaluated over whole batches.

Cost model: host conditions run once per distinct host and are joined back; path/query regexes run only on
rows whose `path?query` contains one of the signatures' literal needles (one Aho-Corasick pass); port,
method and content-type conditions are plain vectorised comparisons. The result is one row per matching
event with the winning (highest-severity) signature.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detectors.circumvention_config import CircumventionConfig
from vigil.errors import ConfigError

DATA_DIR = Path(__file__).parent / "data" / "circumvention"
SIGNATURES_FILE = DATA_DIR / "signatures.toml"
CATEGORIES_FILE = DATA_DIR / "categories.toml"

_PRIVATE_IP = (
    r"^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|0\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)"
    r"|^(::1$|f[cd][0-9a-f]{2}:|fe80:)"
)
_IP_LITERAL = r"^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]*:[0-9a-f:.]*$"


class Signature(BaseModel):
    """One shipped signature: what it matches, how serious it is, and what it means in plain words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    severity: int = Field(ge=1, le=5)
    explain: str
    hosts: tuple[str, ...] = ()
    hosts_exact: tuple[str, ...] = ()
    host_regex: str | None = None
    ips: tuple[str, ...] = ()
    host_is_ip: bool | None = None
    path_regex: str | None = None
    query_regex: str | None = None
    request_regex: str | None = None
    needles: tuple[str, ...] = ()
    content_type_regex: str | None = None
    ports: tuple[int, ...] = ()
    ports_not: tuple[int, ...] = ()
    methods: tuple[str, ...] = ()
    public_destination: bool = False

    @model_validator(mode="after")
    def _check(self) -> Signature:
        has_text = self.path_regex or self.query_regex or self.request_regex
        if has_text and not self.needles:
            raise ValueError(f"signature {self.id}: path/query/request regexes need `needles` (the pre-filter)")
        if not (has_text or self.host_conditions or self.ips or self.content_type_regex or self.ports or self.methods):
            raise ValueError(f"signature {self.id}: no match condition")
        return self

    @property
    def host_conditions(self) -> bool:
        """True when the signature constrains the host name."""
        return bool(self.hosts or self.hosts_exact or self.host_regex or self.host_is_ip is not None)

    def host_expr(self) -> pl.Expr:
        """Condition over a `host` column (evaluated once per distinct host)."""
        cond = pl.lit(True)
        h = pl.col("host")
        if self.hosts:
            suffixes = [s.lower() for s in self.hosts]
            # Suffix match as one anchored regex: cheap, since it runs once per distinct host.
            alternation = "|".join(re.escape(s) for s in suffixes)
            cond = cond & h.str.contains(f"(^|\\.)({alternation})$")
        if self.hosts_exact:
            cond = cond & h.is_in([s.lower() for s in self.hosts_exact])
        if self.host_regex:
            cond = cond & h.str.contains(self.host_regex)
        if self.host_is_ip is not None:
            cond = cond & (h.str.contains(_IP_LITERAL) == self.host_is_ip)
        return cond

    def row_expr(self) -> pl.Expr:
        """Conditions over per-row columns other than the host and the request text."""
        cond = pl.lit(True)
        if self.ips:
            cond = cond & pl.col("_dest_ip").is_in(list(self.ips))
        if self.ports:
            cond = cond & pl.col("dst_port").is_in(list(self.ports))
        if self.ports_not:
            cond = cond & pl.col("dst_port").is_not_null() & ~pl.col("dst_port").is_in(list(self.ports_not))
        if self.methods:
            cond = cond & pl.col("method").str.to_uppercase().is_in([m.upper() for m in self.methods])
        if self.content_type_regex:
            cond = cond & pl.col("content_type").str.contains(self.content_type_regex)
        if self.public_destination:
            cond = cond & ~pl.col("_dest_ip").fill_null("").str.contains(_PRIVATE_IP)
        return cond.fill_null(False)

    def text_expr(self) -> pl.Expr:
        """Conditions over path, query and `path?query` (evaluated on pre-filtered rows only)."""
        cond = pl.lit(True)
        if self.path_regex:
            cond = cond & pl.col("path").fill_null("").str.contains(self.path_regex)
        if self.query_regex:
            cond = cond & pl.col("query").fill_null("").str.contains(self.query_regex)
        if self.request_regex:
            cond = cond & pl.col("_request").str.contains(self.request_regex)
        return cond.fill_null(False)

    @property
    def has_text(self) -> bool:
        """True when the signature needs the request text."""
        return bool(self.path_regex or self.query_regex or self.request_regex)


class SignatureFile(BaseModel):
    """The TOML document."""

    model_config = ConfigDict(extra="forbid")

    version: int
    signature: list[Signature]


@lru_cache(maxsize=4)
def load_signatures(path: Path = SIGNATURES_FILE) -> tuple[Signature, ...]:
    """Parse and validate a signature file; ids must be unique."""
    try:
        with path.open("rb") as fh:
            doc = SignatureFile.model_validate(tomllib.load(fh))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"circumvention signatures {path}: {exc}") from exc
    ids = [s.id for s in doc.signature]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"circumvention signatures {path}: duplicate ids")
    return tuple(doc.signature)


@dataclass(frozen=True)
class CompiledSignatures:
    """Signatures ready to run: index order = priority (highest severity first, then file order)."""

    signatures: tuple[Signature, ...]

    @classmethod
    def build(cls, signatures: Iterable[Signature], disabled: Iterable[str] = ()) -> CompiledSignatures:
        """Order by severity (desc) so the first matching signature is the strongest."""
        off = set(disabled)
        kept = [s for s in signatures if s.id not in off]
        kept.sort(key=lambda s: -s.severity)  # stable: file order within a severity
        return cls(tuple(kept))

    @property
    def needles(self) -> list[str]:
        """Every literal pre-filter needle, lower-cased."""
        return sorted({n.lower() for s in self.signatures for n in s.needles})

    def match(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`_row` and `sig` (index into `signatures`) of every row some signature matches (the strongest)."""
        out_schema = {"_row": pl.UInt32, "sig": pl.Int32}
        if frame.height == 0 or not self.signatures:
            return pl.DataFrame(schema=out_schema)
        frame = frame.with_columns(
            pl.coalesce(
                pl.col("dst_ip"), pl.when(pl.col("host").str.contains(_IP_LITERAL)).then(pl.col("host"))
            ).alias("_dest_ip")
        )
        host_sigs = [i for i, s in enumerate(self.signatures) if s.host_conditions]
        if host_sigs:
            uniq = frame.select(pl.col("host").drop_nulls().unique())
            flags = uniq.with_columns([self.signatures[i].host_expr().alias(f"_h{i}") for i in host_sigs])
            flags = flags.filter(pl.any_horizontal([pl.col(f"_h{i}") for i in host_sigs]))
            frame = frame.join(flags, on="host", how="left").with_columns(
                [pl.col(f"_h{i}").fill_null(False) for i in host_sigs]
            )
        text_sigs = [i for i, s in enumerate(self.signatures) if s.has_text]
        text_hits = pl.DataFrame(schema={"_row": pl.UInt32, **{f"_t{i}": pl.Boolean for i in text_sigs}})
        if text_sigs:
            request = pl.col("path").fill_null("") + pl.lit("?") + pl.col("query").fill_null("")
            cand = frame.filter(request.str.contains_any(self.needles, ascii_case_insensitive=True)).with_columns(
                request.alias("_request")
            )
            if cand.height:
                text_hits = cand.select("_row", *[self.signatures[i].text_expr().alias(f"_t{i}") for i in text_sigs])
            frame = frame.join(text_hits, on="_row", how="left").with_columns(
                [pl.col(f"_t{i}").fill_null(False) for i in text_sigs]
            )
        conds = []
        for i, sig in enumerate(self.signatures):
            cond = sig.row_expr()
            if sig.host_conditions:
                cond = cond & pl.col(f"_h{i}")
            if sig.has_text:
                cond = cond & pl.col(f"_t{i}")
            conds.append(pl.when(cond).then(pl.lit(i, dtype=pl.Int32)))
        hits = frame.select("_row", pl.coalesce(conds).alias("sig")).filter(pl.col("sig").is_not_null())
        return hits.cast(out_schema)  # type: ignore[arg-type]


# --- filter categories ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _shipped_categories() -> dict[str, dict[str, int]]:
    with CATEGORIES_FILE.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)["filter"]
    return {src: {name.lower(): int(sev) for name, sev in names.items()} for src, names in raw.items()}


def filter_categories(source: str, config: CircumventionConfig) -> dict[str, int]:
    """Lower-cased category names meaning circumvention for one source, with their severities."""
    shipped = _shipped_categories()
    names = dict(shipped.get("any", {}))
    names.update(shipped.get(source, {}))
    override = config.sources.get(source)
    if override:
        for name in override.ignore:
            names.pop(name.lower(), None)
        for name in override.categories:
            names[name.lower()] = 4
    return names


def category_hits(frame: pl.DataFrame, config: CircumventionConfig) -> pl.DataFrame:
    """`_row`, `cat_name` (the filter's own wording) and `cat_sev` for rows whose filter category means it.

    Computed once per distinct (source, category) pair; list-derived labels (`set:category`) are skipped,
    list hits are scored from the lists themselves.
    """
    out_schema = {"_row": pl.UInt32, "cat_name": pl.String, "cat_sev": pl.Int32}
    pairs = frame.select("source", "category").filter(pl.col("category").is_not_null()).unique()
    rows: dict[str, list[Any]] = {"source": [], "category": [], "cat_name": [], "cat_sev": []}
    cache: dict[str, Mapping[str, int]] = {}
    for source, category in pairs.iter_rows():
        names = cache.setdefault(source or "", filter_categories(source or "", config))
        best: tuple[int, str] | None = None
        for part in str(category).replace(",", ";").split(";"):
            key = part.strip().lower()
            if ":" in key and key.split(":", 1)[0].isidentifier() and key not in names:
                continue
            sev = names.get(key)
            if sev and (best is None or sev > best[0]):
                best = (sev, part.strip())
        if best:
            rows["source"].append(source)
            rows["category"].append(category)
            rows["cat_name"].append(best[1])
            rows["cat_sev"].append(best[0])
    if not rows["source"]:
        return pl.DataFrame(schema=out_schema)
    table = pl.DataFrame(rows, schema={"source": pl.String, "category": pl.String, "cat_name": pl.String,
                                       "cat_sev": pl.Int32})
    joined = frame.select("_row", "source", "category").join(table, on=["source", "category"], how="inner",
                                                             nulls_equal=True)
    return joined.select("_row", "cat_name", "cat_sev").cast(out_schema)  # type: ignore[arg-type]
