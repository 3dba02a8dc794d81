"""The explicit tuple of built-in parsers, lookup by name, and per-file auto-detection."""

from collections.abc import Mapping, Sequence

from parsers.base import Parser
from parsers.bind import BindParser
from parsers.cef import CefParser
from parsers.dnsmasq import DnsmasqParser
from parsers.e2guardian import E2GuardianParser
from parsers.errors import UnknownFormatError
from parsers.fortigate import FortiGateParser
from parsers.framing import strip_framing_text
from parsers.leef import LeefParser
from parsers.netsweeper import NetsweeperParser
from parsers.paloalto import PaloAltoParser
from parsers.pfsense import PfsenseParser
from parsers.sophos import SophosParser
from parsers.squid import SquidParser
from parsers.squid_combined import SquidCombinedParser
from parsers.umbrella import UmbrellaParser
from parsers.unbound import UnboundParser
from parsers.zscaler import ZscalerParser

# Order matters only to break exact ties in detection: more specific formats first.
# e2guardian precedes squid: its format 3 is Squid-native-like and ties with squid on a small sample.
BUILTIN_PARSERS: tuple[Parser, ...] = (
    E2GuardianParser(),
    SquidParser(),
    SquidCombinedParser(),
    NetsweeperParser(),
    FortiGateParser(),
    PfsenseParser(),
    PaloAltoParser(),
    SophosParser(),
    UmbrellaParser(),
    ZscalerParser(),
    BindParser(),
    DnsmasqParser(),
    UnboundParser(),
    CefParser(),
    LeefParser(),
)

# Auto-detection needs at least this score; below it a file is reported as "format not recognised".
MIN_DETECT_SCORE = 0.5


def parsers() -> Mapping[str, Parser]:
    """Every registered parser by name (built-ins plus custom formats from configuration)."""
    from parsers.custom import configured_custom_parsers

    table: dict[str, Parser] = {p.name: p for p in BUILTIN_PARSERS}
    for parser in configured_custom_parsers():
        table[parser.name] = parser
    return table


def get_parser(name: str) -> Parser:
    """The parser called `name`, or an UnknownFormatError listing the known names."""
    table = parsers()
    if name not in table:
        raise UnknownFormatError(f"unknown format {name!r}; known formats: {', '.join(sorted(table))}")
    return table[name]


def detect_scores(sample: Sequence[str]) -> list[tuple[float, str]]:
    """Each parser's score on the framed sample, best first."""
    bodies = strip_framing_text([s for s in sample if s.strip()][:200])
    scores = [(p.detect(bodies), p.name) for p in parsers().values()]
    return sorted(scores, key=lambda s: -s[0])


def autodetect(sample: Sequence[str], *, what: str = "input") -> Parser:
    """The best-scoring parser for a sample of raw lines, or UnknownFormatError."""
    scores = detect_scores(sample)
    if not scores or scores[0][0] < MIN_DETECT_SCORE:
        best = f" (best guess {scores[0][1]} at {scores[0][0]:.2f})" if scores else ""
        raise UnknownFormatError(f"{what}: format not recognised{best}; pass --format NAME")
    return parsers()[scores[0][1]]
