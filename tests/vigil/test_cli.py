"""The `vigil` command as people and outside checks use it: output contract, exit codes, one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.schema import EVENT_SCHEMA

SQUID = (
    "1795453506.351      0 10.10.0.11 TCP_MISS/200 389 GET http://neutral.test/a?q=1 alice "
    "FIRSTUP_PARENT/127.0.0.1 text/html"
)


def vigil(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(cwd / "var")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], cwd=cwd, input=stdin, capture_output=True, env=env, timeout=120
    )


def test_parse_prints_schema_keys_and_utc_iso_timestamps(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_text(SQUID + "\nnonsense\n")
    r = vigil("parse", str(f), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    events = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(events) == 1
    assert list(events[0]) == EVENT_SCHEMA.names
    assert events[0]["ts"] == "2026-11-23T17:05:06.351000Z"
    assert events[0]["query"] == "q=1" and events[0]["user"] == "alice"
    rejects = [json.loads(x) for x in r.stderr.splitlines()]
    assert rejects == [{"reject": "not_squid_native", "raw": "nonsense", "origin": f"file:{f}:2"}]


def test_parse_reads_gzip_and_stdin(tmp_path: Path) -> None:
    g = tmp_path / "a.log.gz"
    g.write_bytes(gzip.compress((SQUID + "\n").encode()))
    assert len(vigil("parse", str(g), cwd=tmp_path).stdout.splitlines()) == 1
    r = vigil("parse", "--format", "squid", "-", cwd=tmp_path, stdin=(SQUID + "\n").encode())
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1


def test_usage_and_io_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    for args in (
        ["parse", str(tmp_path / "missing.log")],
        ["parse", "--format", "nope", str(tmp_path)],
        ["ingest", str(tmp_path / "missing.log")],
    ):
        r = vigil(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        err = r.stderr.decode().strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_unrecognised_format_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "binary.bin"
    f.write_bytes(bytes(range(256)) * 10)
    r = vigil("parse", str(f), cwd=tmp_path)
    assert r.returncode == 2
    assert b"format not recognised" in r.stderr and b"Traceback" not in r.stderr


def test_bad_lines_never_crash(tmp_path: Path) -> None:
    f = tmp_path / "bad.log"
    f.write_bytes(b"\x00\x00\n\xff\xfe\n" + b"A" * 1_100_000 + b"\n" + SQUID.encode() + b"\n")
    r = vigil("parse", "--format", "squid", str(f), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    assert len(r.stdout.splitlines()) == 1
    reasons = [json.loads(x)["reject"] for x in r.stderr.splitlines()]
    assert reasons == ["not_squid_native", "invalid_utf8", "not_squid_native"]


def test_empty_file_parses_to_nothing(tmp_path: Path) -> None:
    f = tmp_path / "empty.log"
    f.write_bytes(b"")
    r = vigil("parse", "--format", "squid", str(f), cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b""


def test_ingest_prints_a_summary(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_text(SQUID + "\n")
    r = vigil("ingest", "--no-detect", "--school", "s1", str(f), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"total: lines 1  events 1  rejects 0" in r.stdout


def test_every_command_has_help(tmp_path: Path) -> None:
    top = vigil("--help", cwd=tmp_path)
    assert top.returncode == 0
    for cmd in (
        "parse",
        "ingest",
        "syslog",
        "detect",
        "serve",
        "demo",
        "users",
        "retention",
        "filtertest",
        "warehouse",
        "status",
    ):
        r = vigil(cmd, "--help", cwd=tmp_path)
        assert r.returncode == 0 and b"Usage" in r.stdout, (cmd, r.stderr)


def test_a_commands_exit_code_is_the_process_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    import vigil.cli as cli

    probe = typer.Typer()

    @probe.command()
    def fail() -> None:
        raise typer.Exit(3)

    monkeypatch.setattr(cli, "app", probe)
    monkeypatch.setattr(sys, "argv", ["vigil"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 3
