"""Browser-test fixtures: a seeded data directory served by `vigil serve` on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parent))

from ui_testkit import ARTIFACTS, CHROMIUM, browser  # noqa: E402, F401 - the browser fixture is registered here
from workspace_testkit import World, seed  # noqa: E402

VIGIL = Path(sys.executable).with_name("vigil")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """(base URL, seeded world) with the real CLI serving it in a child process."""
    if not CHROMIUM.exists():
        warnings.warn("/usr/bin/chromium missing: browser tests SKIPPED (install Debian chromium)", stacklevel=1)
        pytest.skip("/usr/bin/chromium is missing: the browser tests did NOT run")
    data = tmp_path_factory.mktemp("ui") / "var"
    world = seed(data)
    world.store.dispose()
    port = _free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [str(VIGIL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise RuntimeError(f"vigil serve did not start: {out[-2000:]}")
            time.sleep(0.2)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield base, world
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
