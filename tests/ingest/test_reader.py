"""The file reader: line splitting, offsets, decoding, odd inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.reader import MAX_LINE_BYTES, read_batches, sample_lines
from vigil.errors import InputError


def _lines(path: Path, **kw: object) -> list[str]:
    out: list[str] = []
    for b in read_batches(path, **kw):  # type: ignore[arg-type]
        out.extend(b.frame["raw"].to_list())
    return out


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_bytes(b"one\r\ntwo\nthree")
    assert _lines(p) == ["one", "two", "three"]
    # follow mode leaves an unfinished last line for later
    assert _lines(p, partial_last_line=False) == ["one", "two"]


def test_invalid_utf8_is_flagged_and_kept_escaped(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_bytes(b"good\n\xff\xfebad\nalso good\n")
    frame = next(read_batches(p)).frame
    assert frame["raw"].to_list() == ["good", "\\xff\\xfebad", "also good"]
    assert frame["decode_error"].to_list() == [False, True, False]
    assert frame["line_no"].to_list() == [1, 2, 3]


def test_nul_bytes_are_kept(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_bytes(b"a\x00b\n")
    assert _lines(p) == ["a\x00b"]


def test_empty_file_has_no_batches(tmp_path: Path) -> None:
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    assert list(read_batches(p)) == []


def test_overlong_line_is_cut_not_lost(tmp_path: Path) -> None:
    p = tmp_path / "long.log"
    p.write_bytes(b"x" * (MAX_LINE_BYTES + 10) + b"\nshort\n")
    lines = _lines(p)
    assert "".join(lines[:-1]) == "x" * (MAX_LINE_BYTES + 10)
    assert lines[-1] == "short"
    assert max(len(s) for s in lines) <= MAX_LINE_BYTES


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    p = tmp_path / "a.log.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b"l1\nl2\n")
    assert _lines(p) == ["l1", "l2"]
    assert sample_lines(p) == ["l1", "l2"]


def test_resume_from_offset_continues_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_bytes(b"aa\nbb\ncc\n")
    first = next(read_batches(p, batch_bytes=3))
    assert first.frame["raw"].to_list() == ["aa"] and first.end == 3
    rest = list(read_batches(p, start=first.end, start_line=2))
    assert [r for b in rest for r in b.frame["raw"].to_list()] == ["bb", "cc"]
    assert rest[0].frame["line_no"][0] == 2


def test_unreadable_paths_raise_one_line_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_batches(tmp_path / "missing.log"))
    with pytest.raises(InputError, match="is a directory"):
        list(read_batches(tmp_path))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=1, max_value=64),
)
def test_batches_concatenate_to_the_input(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], size: int
) -> None:
    p = tmp_path_factory.mktemp("r") / "a.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = list(read_batches(p, batch_bytes=size))
    assert [r for b in batches for r in b.frame["raw"].to_list()] == lines
    # positions tile the file with no gap or overlap
    assert batches[0].start == 0
    assert all(a.end == b.start for a, b in zip(batches, batches[1:], strict=False))
    assert batches[-1].end == p.stat().st_size
