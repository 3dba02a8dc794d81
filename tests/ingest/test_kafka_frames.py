"""Kafka records -> batch frame: origins, line numbers, poison flags, repaired bytes (no broker needed)."""

from __future__ import annotations

from collections import namedtuple

from ingest.sources.kafka import chunk_lines, records_frame

Rec = namedtuple("Rec", "offset key value")


def test_frame_from_records() -> None:
    recs = [
        Rec(5, b"10.0.0.1", b"a\nb\n"),  # batch message with a trailing newline
        Rec(6, None, b"x" * 3000),  # oversized
        Rec(7, b"\xff", b"ok\n\xff\xfebad\nfine"),  # a bad line inside, and a bad key
        Rec(8, b"k", None),  # tombstone
        Rec(9, b"k", b"one\r\n"),  # CRLF
        Rec(10, b"k", b"\xc3"),  # with the next value, a valid sequence if concatenated
        Rec(11, b"k", b"\xa9"),
    ]
    df = records_frame("t", 2, recs, max_message_bytes=2048)
    assert df["origin"].to_list() == [
        "kafka:t:2:5:1",
        "kafka:t:2:5:2",
        "kafka:t:2:6",
        "kafka:t:2:7:1",
        "kafka:t:2:7:2",
        "kafka:t:2:7:3",
        "kafka:t:2:8",
        "kafka:t:2:9",
        "kafka:t:2:10",
        "kafka:t:2:11",
    ]
    assert df["raw"].to_list()[:2] == ["a", "b"] and df["raw"][7] == "one"
    assert df["raw"][2] == "x" * 3000 and df["poison"].to_list().count("oversized_message") == 1
    assert df["decode_error"].to_list() == [False, False, False, False, True, False, False, False, True, True]
    assert df["raw"][4] == "\\xff\\xfebad"
    assert df["sender"].to_list()[:3] == ["10.0.0.1", "10.0.0.1", ""] and df["sender"][3] == "\ufffd"
    assert df["line_no"].to_list() == [1, 2, 1, 1, 2, 3, 1, 1, 1, 1]


def test_chunk_lines() -> None:
    lines = [b"1", b"2", b"3", b"4", b"5"]
    assert chunk_lines(lines, "batch", 2) == [b"1\n2", b"3\n4", b"5"]
    assert chunk_lines(lines, "line", 2) == lines
