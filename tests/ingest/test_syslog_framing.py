"""Syslog framing decoders and sender mapping: table cases plus a chunking-invariance property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sources.mapping import SourceMap, safe_name
from ingest.sources.syslog_framing import Decoded, StreamDecoder, decode_datagram, header_hostname
from vigil.settings import Settings, SourceConfig


def _feed_all(chunks: list[bytes], max_frame: int = 1024) -> Decoded:
    dec = StreamDecoder(max_frame)
    total = Decoded()
    for c in [*chunks, None]:
        out = dec.feed(c) if c is not None else dec.finish()
        total.data += out.data
        total.lines += out.lines
        total.malformed += out.malformed
        if out.close:
            break
    return total


@pytest.mark.parametrize(
    ("name", "stream", "data", "reasons"),
    [
        ("lf_two_lines", [b"<1>a\n<1>b\n"], b"<1>a\n<1>b\n", []),
        ("lf_last_line_without_newline", [b"<1>a\n<1>b"], b"<1>a\n<1>b\n", []),
        ("lf_split_across_reads", [b"<1>a\n<1", b">b\n"], b"<1>a\n<1>b\n", []),
        ("octet_two_frames", [b"4 <1>a4 <1>b"], b"<1>a\n<1>b\n", []),
        ("octet_with_trailer_lf", [b"4 <1>a\n4 <1>b\n"], b"<1>a\n<1>b\n", []),
        ("octet_embedded_newline_escaped", [b"6 <1>a\nb"], b"<1>a#012b\n", []),
        ("octet_split_inside_count", [b"1", b"0 <1>abcdefg"], b"<1>abcdefg\n", []),
        ("octet_bad_count_closes", [b"4 <1>a", b"x4 junk"], b"<1>a\n", ["bad_octet_count"]),
        ("octet_truncated_at_close", [b"9 <1>a"], b"", ["truncated_frame"]),
        ("octet_oversized", [b"5000 <1>..."], b"", ["oversized_frame"]),
        ("lf_oversized_line_dropped", [b"<1>a\n" + b"y" * 2000 + b"\n<1>b\n"], b"<1>a\n<1>b\n", ["oversized_frame"]),
        (
            "lf_oversized_across_reads",
            [b"<1>a\n" + b"y" * 1500, b"y" * 100 + b"\n<1>b\n"],
            b"<1>a\n<1>b\n",
            ["oversized_frame"],
        ),
    ],
)
def test_stream_cases(name: str, stream: list[bytes], data: bytes, reasons: list[str]) -> None:
    out = _feed_all(stream)
    assert out.data == data, name
    assert out.lines == data.count(b"\n")
    assert [r for r, _ in out.malformed] == reasons


@pytest.mark.parametrize(
    ("payload", "data", "reason"),
    [
        (b"<13>Nov 24 06:00:00 fw a\n", b"<13>Nov 24 06:00:00 fw a\n", None),
        (b"24 <13>Nov 24 06:00:00 fw a", b"<13>Nov 24 06:00:00 fw a\n", None),  # logger --udp --octet-count
        (b"<13>x\ny", b"<13>x#012y\n", None),
        (b"", b"", "empty_frame"),
        (b"<13>" + b"z" * 2000, b"", "oversized_frame"),
    ],
)
def test_datagrams(payload: bytes, data: bytes, reason: str | None) -> None:
    out = decode_datagram(payload, 1024)
    assert out.data == data
    assert [r for r, _ in out.malformed] == ([reason] if reason else [])


_line = st.binary(min_size=1, max_size=60).map(lambda b: b"<1>" + b.replace(b"\n", b"_"))


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(_line, min_size=1, max_size=30), cuts=st.lists(st.integers(0, 4000), max_size=8), octet=st.booleans()
)
def test_any_chunking_gives_the_same_lines(lines: list[bytes], cuts: list[int], octet: bool) -> None:
    """However TCP splits the stream, the decoded lines are the same."""
    stream = b"".join(b"%d %s" % (len(x), x) for x in lines) if octet else b"\n".join(lines) + b"\n"
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True) if b > a]
    whole = _feed_all([stream], max_frame=4096)
    split = _feed_all(chunks, max_frame=4096)
    assert split.data == whole.data == b"".join(x.replace(b"\n", b"#012") + b"\n" for x in lines)
    assert split.malformed == whole.malformed == []


def test_header_hostname() -> None:
    assert header_hostname(b"<134>1 2026-11-24T06:00:00Z fw1.example app - - - m") == "fw1.example"
    assert header_hostname(b"<134>Nov  4 06:00:00 fw2 squid: m") == "fw2"
    assert header_hostname(b"<134>1 2026-11-24T06:00:00Z - app - - - m") is None
    assert header_hostname(b"no header") is None


def test_source_map_address_cidr_hostname_and_defaults() -> None:
    s = Settings(
        sources=[
            SourceConfig(name="a", school="sa", format="squid", hosts=["10.0.0.5"]),
            SourceConfig(name="b", school="sb", hosts=["10.1.0.0/16", "FW-B.example."]),
        ]
    )
    m = SourceMap(s)
    assert m.resolve("10.0.0.5").school == "sa" and m.resolve("10.0.0.5").format == "squid"
    assert m.resolve("10.1.2.3").name == "b"
    assert m.resolve("192.0.2.1", "fw-b.example").school == "sb"  # hostname when the address is unknown
    unknown = m.resolve("192.0.2.1", "weird host/../x")
    assert unknown.school == "default" and not unknown.configured and unknown.name == "weird_host_.._x"
    assert m.resolve("10.0.0.5", school="forced", fmt="fortigate").school == "forced"
    assert m.resolve("10.0.0.5", fmt="fortigate").format == "fortigate"
    assert safe_name("../..") == "unknown"
