"""Fixtures for the filter-test tests: the real loopback filter rig (e2guardian in front of Squid), data dirs.

The rig is `tests/e2e/rig/rig.sh` on free loopback ports under a temporary RIG_DIR, e2guardian logging in
format 6 (Debian's default). Its policies: any proxy-basic user is group 1 `students` (adult, gambling and
proxies banned), `bob` is group 2 `staff` (gambling allowed). Skips loudly only when squid, e2guardian or
curl are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import vigil.settings as vigil_settings
from cases.store import CaseStore
from vigil.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))  # ft_rigkit, shared with the test modules

from ft_rigkit import FilterRig  # noqa: E402

RIG = Path(__file__).resolve().parents[1] / "e2e" / "rig" / "rig.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def filter_rig() -> Iterator[FilterRig]:
    """Start the rig once for the session; stop it by PID file at the end."""
    missing = [b for b in ("squid", "e2guardian", "curl") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"REAL FILTER RIG NOT RUN: {', '.join(missing)} not installed (make test installs them)")
    # e2guardian lower-cases list paths: mkdtemp names are lower-case, keep it that way
    rig_dir = Path(tempfile.mkdtemp(prefix="vigil-ftrig-"))
    rig_dir.chmod(0o755)  # squid and e2guardian drop privileges and must reach their files
    origin, tls, squid, e2g = (_free_port() for _ in range(4))
    env = {
        **os.environ,
        "RIG_DIR": str(rig_dir),
        "ORIGIN_PORT": str(origin),
        "ORIGIN_TLS_PORT": str(tls),
        "SQUID_PORT": str(squid),
        "E2G_PORT": str(e2g),
        "E2G_FORMATS": "6",
        "RIG_PYTHON": shutil.which("python3") or "python3",
    }
    started = subprocess.run(["bash", str(RIG), "start"], env=env, capture_output=True, text=True, timeout=90)
    try:
        assert started.returncode == 0, f"rig.sh start failed:\n{started.stderr[-3000:]}"
        yield FilterRig(rig_dir, f"http://127.0.0.1:{e2g}", f"http://127.0.0.1:{squid}", tls)
    finally:
        subprocess.run(["bash", str(RIG), "stop"], env=env, capture_output=True, timeout=90)
        shutil.rmtree(rig_dir, ignore_errors=True)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on a fresh data directory (SQLite case store, empty warehouse), activated."""
    s = Settings(data_dir=tmp_path / "var", timezone="UTC")
    previous = vigil_settings._active
    vigil_settings.activate(s)
    try:
        yield s
    finally:
        vigil_settings._active = previous
        vigil_settings._cached_default.cache_clear()


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    """The migrated case store of `settings`."""
    s = CaseStore.from_url(settings.case_db_url)
    s.migrate()
    try:
        yield s
    finally:
        s.dispose()
