"""User-name normalisation shared by parsers: URL-decoding, `DOMAIN\\user` to `user@domain`, lower case."""

import polars as pl


def normalise_user(user: pl.Expr) -> pl.Expr:
    """`SCHOOL%5CAlice` or `SCHOOL\\Alice` -> `alice@school`; `-` and empty -> null."""
    decoded = (
        user.str.replace_all("%5[Cc]", "\\", literal=False)
        .str.replace_all("%40", "@", literal=True)
        .str.replace_all("%20", " ", literal=True)
    )
    parts = decoded.str.extract_groups(r"^(?P<domain>[^\\]+)\\(?P<name>.+)$")
    swapped = parts.struct.field("name") + pl.lit("@") + parts.struct.field("domain")
    out = pl.when(parts.struct.field("name").is_not_null()).then(swapped).otherwise(decoded)
    return pl.when(out.is_in(["-", ""])).then(None).otherwise(out.str.to_lowercase())
