"""e2guardian / DansGuardian access.log, every `logfileformat` (1-8), sub-format detected per batch.

Layouts (see docs/formats.md and the reference notes; ⇥ = TAB):
- 1 space-separated: `when who from where what how ssize sweight cat group code mime clienthost groupname
  useragent params logid1 logid2 postdata`; `what`, `cat` and the user agent contain spaces, so the line is
  anchored on the URL (4th token) and the method token followed by two numbers, and read from both ends.
- 2 the same fields, each double-quoted, comma-separated (old DansGuardian: 15 fields, ending at the agent).
- 3 Squid-like: `utime elapsed client TCP_DENIED/403|TCP_MISS/code size method url who DEFAULT_PARENT/ip
  mime`.
- 4 format 1 with TABs.
- 5/6 "Protex" TAB: `utime server who from clienthost url method code size mime useragent - duration -
  message_no what weight cat groupname groupnumber`; 6 blanks the server. 7/8 append `searchterms flags`.
Formats 1, 2 and 4 carry local time without a zone (`YYYY.MM.DD HH:MM:SS`, not zero-padded in old
DansGuardian: `2016.1.8 19:46:10`), read in the source's timezone; 3 and 5-8 carry epoch seconds.
The sub-format is chosen per batch by the share of lines each layout matches, or forced with
`[e2guardian] logfileformat = N` in vigil.toml (or a source option `logfileformat`, which wins).

Output: ts, user (`who`; `-` -> null; an anonymous request that e2guardian's ip auth plugin logged with the
client IP as `who` keeps that IP as the user text, because e2guardian wrote it there), client_ip, client_host
(only when it is a name, not a repeat of the IP), url, method, status, bytes_in, duration_ms (3, 5-8),
category, user_group (group name), user_agent, observer (server, 5/7), search_terms (7/8), action, reason.
Actions from the `what` markers: `*DENIED*` (and `*DENIED-POST*`...) and `*INFECTED*` -> blocked,
`*NETERROR*` -> error, `*TRUSTED*`/`*EXCEPTION*` -> allowed with the reason kept, any other marker or none ->
allowed. Markers come from the language file, so when none is recognised the language-independent message
number (5-8) decides: 300-599 and 700-1199 blocked, 600-699 exception (allowed). Reason = text after the
marker (or the message's English text), then `[message N, weight W]` when they are non-zero.
Format 3 has no reason or category: `TCP_DENIED/403` -> blocked, reason `blocked by e2guardian`.
Worked example (format 5): `1795453507.615⇥⇥alice⇥10.10.0.11⇥10.10.0.11⇥http://adult.test⇥GET⇥403⇥0⇥-⇥ua⇥-⇥1⇥-⇥
500⇥*DENIED* Blocked site: adult.test⇥0⇥Adult⇥students⇥1` -> user alice, action blocked, category Adult,
user_group students, reason `Blocked site: adult.test [message 500]`.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, null_if_dash
from parsers.errors import ParserConfigError
from parsers.squid import connect_url, squid_action
from parsers.squid_combined import split_two_pass
from parsers.timeutil import epoch_to_utc, local_to_utc
from parsers.users import normalise_user

_DATE = r"(?P<date>\d{4}\.\d{1,2}\.\d{1,2}) (?P<time>\d{1,2}:\d{1,2}:\d{1,2})"
_T = r"[^\t]*"
_FMT1 = (
    rf"^{_DATE} (?P<who>\S+) (?P<from>\S+) (?P<url>\S+) (?P<what>.*?) (?P<method>[A-Z][A-Z_-]*) "
    r"(?P<size>-?\d+) (?P<weight>-?\d+) (?P<cat>.*?) (?P<group>\d+) (?P<code>\d{1,3}) (?P<mime>\S+) "
    r"(?P<clienthost>\S+) (?P<groupname>\S*) (?P<ua>.*?)(?: (?P<params>\S+) \S+ \S+ \S+)?$"
)
_Q = r'"(?P<{}>.*?)"'
_FMT2 = (
    "^"
    + ",".join(
        _Q.format(n) if n not in ("size", "weight", "group", "code") else f'"(?P<{n}>-?\\d+)"'
        for n in ("when", "who", "from", "url", "what", "method", "size", "weight", "cat", "group", "code")
    )
    + r',"(?P<mime>.*?)","(?P<clienthost>.*?)","(?P<groupname>.*?)","(?P<ua>.*?)"'
    + r'(?:,"(?P<params>.*?)",".*?",".*?",".*")?$'
)
_FMT3 = (
    r"^\s*(?P<utime>\d{9,11}\.\d{1,6})\s+(?P<duration>-?\d+)\s+(?P<from>\S+)\s+(?P<result>[A-Z_]+)/(?P<code>\d{3})"
    r"\s+(?P<size>\d+)\s+(?P<method>\S+)\s+(?P<url>\S+)\s+(?P<who>\S+)\s+DEFAULT_PARENT/\S+\s+(?P<mime>\S+)\s*$"
)
_FMT4 = (
    rf"^(?P<when>\d{{4}}\.\d{{1,2}}\.\d{{1,2}} \d{{1,2}}:\d{{1,2}}:\d{{1,2}})\t(?P<who>{_T})\t(?P<from>{_T})"
    rf"\t(?P<url>{_T})\t(?P<what>{_T})\t(?P<method>{_T})\t(?P<size>-?\d+)\t(?P<weight>-?\d+)\t(?P<cat>{_T})"
    rf"\t(?P<group>\d+)\t(?P<code>\d+)\t(?P<mime>{_T})\t(?P<clienthost>{_T})\t(?P<groupname>{_T})\t(?P<ua>.*?)"
    rf"(?:\t(?P<params>{_T})\t{_T}\t{_T}\t{_T})?$"
)
# The user agent is the only field with free text before the fixed tail: read the tail from the right.
_PROTEX = (
    rf"^(?P<utime>\d{{9,11}}\.\d{{1,6}})\t(?P<server>{_T})\t(?P<who>{_T})\t(?P<from>{_T})\t(?P<clienthost>{_T})"
    rf"\t(?P<url>{_T})\t(?P<method>{_T})\t(?P<code>-?\d+)\t(?P<size>-?\d+)\t(?P<mime>{_T})\t(?P<ua>.*)\t{_T}"
    rf"\t(?P<duration>-?\d+)\t{_T}\t(?P<msgno>-?\d+)\t(?P<what>{_T})\t(?P<weight>-?\d+)\t(?P<cat>{_T})"
    rf"\t(?P<groupname>{_T})\t(?P<group>\d+)"
)
_FMT56 = _PROTEX + "$"
_FMT78 = _PROTEX + rf"\t(?P<search>{_T})\t(?P<flags>{_T})$"

# Sub-format family -> full-line pattern; 5/6 and 7/8 parse alike (6 and 8 only blank the server).
FAMILIES: Mapping[int, str] = {1: _FMT1, 2: _FMT2, 3: _FMT3, 4: _FMT4, 5: _FMT56, 7: _FMT78}
_FAMILY_OF = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 5, 7: 7, 8: 7}
# Format 3 detection is stricter than its parse: e2guardian always writes DEFAULT_PARENT and mime `-`, which
# keeps a genuine Squid native log (real MIME types, other hierarchy codes) out of this parser.
_DETECT = {**FAMILIES, 3: _FMT3.replace(r"(?P<mime>\S+)", "-")}

# English text of the commonest message numbers (ukenglish `messages`), used when a translated log has no
# marker we recognise; the number itself is language-independent.
MESSAGES: Mapping[int, str] = {
    300: "Banned phrase found",
    301: "Banned phrase found",
    400: "Banned combination phrase found",
    401: "Banned combination phrase found",
    402: "Weighted phrase limit exceeded",
    403: "Weighted phrase limit exceeded",
    500: "Banned site",
    501: "Banned URL",
    502: "Blanket block active",
    503: "Banned regular expression URL",
    521: "Banned search words",
    600: "Exception client IP match",
    601: "Exception client user match",
    602: "Exception site match",
    603: "Exception URL match",
    700: "Web upload banned",
    800: "Banned MIME type",
    900: "Banned extension",
    1100: "Virus or bad content detected",
}
_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"


def what_action(what: pl.Expr, msgno: pl.Expr, weight: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """e2guardian `what` (markers + reason), message number and weight -> (action, reason)."""
    known = what.str.contains(r"\*(?:DENIED[A-Z-]*|INFECTED|NETERROR|TRUSTED|EXCEPTION)\*")
    action = (
        pl.when(what.str.contains(r"\*(?:DENIED[A-Z-]*|INFECTED)\*"))
        .then(pl.lit("blocked"))
        .when(what.str.contains(r"\*NETERROR\*"))
        .then(pl.lit("error"))
        .when(known)
        .then(pl.lit("allowed"))
        .when(((msgno >= 300) & (msgno < 600)) | ((msgno >= 700) & (msgno < 1200)))
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("allowed"))
    )
    # Strip the markers we act on; others (*SCANNED*, *CONTENTMOD*...) stay in the reason as information.
    text = null_if_dash(
        what.str.replace_all(r"\*(?:DENIED[A-Z-]*|INFECTED|NETERROR|TRUSTED|EXCEPTION)\*", "").str.strip_chars()
    )
    base = pl.coalesce(text, msgno.replace_strict(dict(MESSAGES), default=None, return_dtype=pl.String))
    notes = pl.concat_str(
        pl.when(msgno > 0).then(pl.lit("message ") + msgno.cast(pl.String)),
        pl.when(weight != 0).then(pl.lit("weight ") + weight.cast(pl.String)),
        separator=", ",
        ignore_nulls=True,
    )
    suffix = pl.when(notes != "").then(pl.lit("[") + notes + pl.lit("]"))
    reason = pl.concat_str(base, suffix, separator=" ", ignore_nulls=True)
    return action, pl.when(reason == "").then(None).otherwise(reason)


def configured_format() -> object:
    """`[e2guardian] logfileformat` from vigil.toml (forces the sub-format for every source), or None."""
    from vigil.settings import get_settings

    return get_settings().section("e2guardian").get("logfileformat")


def choose_family(bodies: pl.Series, forced: object = None) -> int:
    """The sub-format family for a batch: forced by option, else the layout most lines match."""
    if forced is not None:
        try:
            return _FAMILY_OF[int(str(forced))]
        except (KeyError, ValueError) as exc:
            raise ParserConfigError(f"e2guardian: logfileformat must be 1..8, got {forced!r}") from exc
    sample = bodies.drop_nulls().head(500)
    best, best_n = 5, -1
    for family, pattern in _DETECT.items():
        n = int(sample.str.contains(pattern).sum())
        if n > best_n:
            best, best_n = family, n
    return best


class E2GuardianParser(BaseParser):
    """e2guardian and DansGuardian access logs, logfileformat 1 to 8."""

    name: ClassVar[str] = "e2guardian"
    description: ClassVar[str] = "e2guardian / DansGuardian access.log, logfileformat 1-8 (detected per batch)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_e2guardian": "the line does not have the layout of the batch's e2guardian logfileformat",
        "bad_local_time": "the local `YYYY.MM.DD HH:MM:SS` time is unreadable or does not exist in the zone",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines matching the best-fitting e2guardian layout."""
        lines = pl.Series([s for s in sample if s and s.strip()], dtype=pl.String)
        if lines.len() == 0:
            return 0.0
        return max(lines.str.contains(p).arg_true().len() / lines.len() for p in _DETECT.values())

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Pick the batch's sub-format, then one vectorised regex split."""
        family = choose_family(batch["body"], meta.options.get("logfileformat", configured_format()))
        # Materialised once (eager select does not share a repeated regex sub-expression); for 5-8 a variant
        # whose agent has no TAB goes first and the greedy pattern only sees the lines it missed.
        pattern = FAMILIES[family]
        fast = pattern.replace("(?P<ua>.*)", f"(?P<ua>{_T})")
        groups = split_two_pass(batch, fast, pattern, "url")
        f = pl.col
        code = f("code").cast(pl.Int32, strict=False)
        if family == 3:
            action, _ = squid_action(f("result"), code)
            reason = pl.when(action == "blocked").then(pl.lit("blocked by e2guardian")).otherwise(None)
            ts = epoch_to_utc(f("utime"))
            extra: list[pl.Expr] = [f("duration").cast(pl.Int32, strict=False).alias("duration_ms")]
        else:
            msgno = f("msgno").cast(pl.Int32, strict=False) if family >= 5 else pl.lit(None, pl.Int32)
            weight = f("weight").cast(pl.Int32, strict=False)
            action, reason = what_action(f("what"), msgno, weight)
            if family >= 5:
                ts = epoch_to_utc(f("utime"))
            else:
                when = f("when") if family in (2, 4) else pl.concat_str(f("date"), pl.lit(" "), f("time"))
                ts = local_to_utc(when.str.to_datetime("%Y.%m.%d %H:%M:%S", strict=False, time_unit="us"), meta.tz)
            host = null_if_dash(f("clienthost"))
            extra = [
                null_if_dash(f("cat")).alias("category"),
                null_if_dash(f("groupname")).alias("user_group"),
                null_if_dash(f("ua")).alias("user_agent"),
                pl.when(host.str.contains(_IP)).then(None).otherwise(host).alias("client_host"),
            ]
            if family >= 5:
                extra += [
                    f("duration").cast(pl.Int32, strict=False).alias("duration_ms"),
                    null_if_dash(f("server")).alias("observer"),
                ]
            if family == 7:
                extra.append(null_if_dash(f("search")).alias("search_terms"))
        matched = f("url").is_not_null()
        return groups.select(
            ts.alias("ts"),
            normalise_user(f("who")).alias("user"),
            null_if_dash(f("from")).alias("client_ip"),
            connect_url(f("method"), f("url")).alias("url"),
            f("method").alias("method"),
            code.alias("status"),
            f("size").cast(pl.Int64, strict=False).alias("bytes_in"),
            null_if_dash(f("mime")).alias("content_type"),
            action.alias("action"),
            reason.alias("reason"),
            *extra,
            pl.when(~matched)
            .then(pl.lit("not_e2guardian"))
            .when(ts.is_null())
            .then(pl.lit("bad_local_time"))
            .otherwise(None)
            .alias("_reject"),
        )
