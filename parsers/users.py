"""User-name normalisation shared by parsers: URL-decoding, `DOMAIN\\user` to `user@domain`, lower case."""

import polars as pl


def _normalise_rows(user: pl.Expr) -> pl.Expr:
    """The row-wise formula (every row pays for three replaces, one split and a lower-casing)."""
    decoded = (
        user.str.replace_all("%5[Cc]", "\\", literal=False)
        .str.replace_all("%40", "@", literal=True)
        .str.replace_all("%20", " ", literal=True)
    )
    parts = decoded.str.extract_groups(r"^(?P<domain>[^\\]+)\\(?P<name>.+)$")
    swapped = parts.struct.field("name") + pl.lit("@") + parts.struct.field("domain")
    out = pl.when(parts.struct.field("name").is_not_null()).then(swapped).otherwise(decoded)
    return pl.when(out.is_in(["-", ""])).then(None).otherwise(out.str.to_lowercase())


def _normalise_series(users: pl.Series) -> pl.Series:
    """Normalise each distinct name once and map back: a batch holds a few thousand users at most."""
    if users.dtype != pl.String:
        return _apply(users)
    distinct = users.drop_nulls().unique()
    if distinct.len() * 2 > users.len():  # mostly distinct (tiny or odd input): the mapping would not pay
        return _apply(users)
    return users.replace_strict(distinct, _apply(distinct), default=None, return_dtype=pl.String)


def _apply(values: pl.Series) -> pl.Series:
    return values.to_frame("u").select(_normalise_rows(pl.col("u"))).to_series().alias(values.name)


def normalise_user(user: pl.Expr) -> pl.Expr:
    """`SCHOOL%5CAlice` or `SCHOOL\\Alice` -> `alice@school`; `-` and empty -> null."""
    return user.map_batches(_normalise_series, return_dtype=pl.String, is_elementwise=True)
