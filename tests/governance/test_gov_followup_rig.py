"""Follow-up filter tests against the real filter: e2guardian in front of Squid on loopback (tests/e2e/rig).

A member of staff asks for a site to be blocked (and another unblocked) for students; the DSL approves and
records the filter change; the follow-up probes the URL as the students' group through e2guardian and the
register shows whether the change really took effect: `failed` while the change has not been made on the
filter, `passed` once the list is changed and e2guardian reloaded. Skips loudly without squid/e2guardian.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from govkit import GovWorld, build_world, who

from filtertests import records
from governance import followup
from governance.config import load_config

pytestmark = pytest.mark.realparts

RIG = Path(__file__).parents[1] / "e2e" / "rig" / "rig.sh"
FMT = 6


@dataclass(frozen=True)
class Rig:
    """A running rig and how to change its students' banned site list."""

    dir: Path
    env: dict[str, str]
    proxy: str

    @property
    def lists(self) -> Path:
        """e2guardian's list directory."""
        return self.dir / "etc" / "e2guardian" / "lists"

    def reload(self) -> None:
        """Restart e2guardian on its changed lists (what the network manager's change does).

        `e2guardian -r` (HUP) did not re-read the site lists in this packaged 5.3 build, so the instance
        this fixture started is stopped by its PID file and started again on the same configuration.
        """
        conf = self.dir / "etc" / "e2guardian" / f"e2guardian-fmt{FMT}.conf"
        pidfile = self.dir / "run" / f"e2guardian-fmt{FMT}.pid"
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        pidfile.unlink(missing_ok=True)
        subprocess.run(["e2guardian", "-c", str(conf)], check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy}))
                with opener.open("http://internal.test.e2guardian.org/", timeout=2) as resp:
                    if b"internal test OK" in resp.read():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("e2guardian did not come back after the list change")


def _free_ports(n: int) -> list[int]:
    ports: list[int] = []
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    """Our own rig instance (origin, Squid, one e2guardian), stopped by PID file at the end."""
    missing = [b for b in ("squid", "e2guardian", "curl") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"REAL FILTER RIG NOT RUN: {', '.join(missing)} not installed (make test installs them)")
    rig_dir = Path(tempfile.mkdtemp(prefix="vigil-gov-rig-"))
    rig_dir.chmod(0o755)  # squid and e2guardian drop to their own users and must reach their files
    origin, tls, squid, e2g = _free_ports(4)
    env = {
        **os.environ,
        "RIG_DIR": str(rig_dir),
        "ORIGIN_PORT": str(origin),
        "ORIGIN_TLS_PORT": str(tls),
        "SQUID_PORT": str(squid),
        "E2G_PORT": str(e2g),
        "E2G_FORMATS": str(FMT),
        "RIG_PYTHON": shutil.which("python3") or "python3",
    }
    started = subprocess.run(["bash", str(RIG), "start"], env=env, capture_output=True, text=True, timeout=90)
    try:
        assert started.returncode == 0, f"rig.sh start failed:\n{started.stderr[-3000:]}"
        yield Rig(rig_dir, env, f"http://127.0.0.1:{e2g}")
    finally:
        subprocess.run(["bash", str(RIG), "stop"], env=env, capture_output=True, timeout=90)
        shutil.rmtree(rig_dir, ignore_errors=True)


PLAN = """
name: school follow-up groups (SYNTHETIC)
groups:
  - name: students
    user: probe.student
    password: x
  - name: staff
    user: bob
    password: x
checks:
  - name: adult test page
    category: adult
    urls: ["http://adult.test/"]
    expect: blocked
options:
  timeout_seconds: 10
  concurrency: 1
monitoring:
  required: false
"""


@pytest.fixture(scope="module")
def world(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """Vigil configured to follow decisions up through the rig as the plan's groups."""
    base = tmp_path_factory.mktemp("gov-rig")
    plan = base / "plan.yaml"
    plan.write_text(PLAN)
    gov = {"followup_plan": str(plan), "followup_proxy": rig.proxy, "followup_delay_minutes": 0}
    return build_world(base / "var", governance=gov)


@pytest.fixture(scope="module")
def client(world: GovWorld) -> Iterator[TestClient]:
    """HTTPS client."""
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c


def _student_sees(rig: Rig, url: str) -> str:
    """What a student's browser gets for `url` through e2guardian: BLOCKPAGE or PASSED."""
    handler = urllib.request.ProxyHandler({"http": rig.proxy})
    opener = urllib.request.build_opener(handler)
    req = urllib.request.Request(url, headers={"Proxy-Authorization": "Basic c3R1ZGVudDp4"})  # student:x
    with opener.open(req, timeout=10) as resp:
        body = resp.read().decode("utf-8", "replace")
    return "BLOCKPAGE" if "Access Denied" in body else "PASSED"


def _wait_for(rig: Rig, url: str, want: str) -> None:
    """e2guardian reloads lists asynchronously after HUP: wait until a student sees the new state."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _student_sees(rig, url) == want:
            return
        time.sleep(0.2)
    raise AssertionError(f"e2guardian did not start answering {want} for {url}")


def _ask_and_approve(client: TestClient, world: GovWorld, kind: str, url: str, change: str) -> str:
    resp = client.post(
        "/api/governance/requests",
        headers=world.headers(who("staff")),
        json={
            "school": "north",
            "kind": kind,
            "url": url,
            "category": "games",
            "group": "students",
            "reason": "SYNTHETIC request for the follow-up test",
        },
    )
    assert resp.status_code == 201, resp.text
    rid = str(resp.json()["id"])
    resp = client.post(
        f"/api/governance/requests/{rid}/decision",
        headers=world.headers(who("dsl")),
        json={"approve": True, "reason": "agreed with the head of year", "filter_change": change},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["followup_status"] == "scheduled"
    return rid


def test_block_takes_effect_and_the_register_shows_it(rig: Rig, client: TestClient, world: GovWorld) -> None:
    url = "http://neutral.test/news.html"
    assert _student_sees(rig, url) == "PASSED"
    rid = _ask_and_approve(client, world, "block", url, "added neutral.test to the students' banned site list")
    # the network manager makes the change on the filter (here: e2guardian's list) and the filter reloads
    own = rig.lists / "rig" / "requested_blocks"
    own.write_text('#listcategory: "Requested block"\nneutral.test\n')
    with (rig.lists / "bannedsitelist").open("a") as fh:
        fh.write(f".Include<{own}>\n")
    rig.reload()
    _wait_for(rig, url, "BLOCKPAGE")
    done = followup.run_due(world.store, load_config(world.settings))
    assert [d["id"] for d in done] == [rid]
    shown = client.get(f"/api/governance/requests/{rid}", headers=world.headers(who("dsl"))).json()
    assert shown["followup_status"] == "passed", shown["followup_detail"]
    assert "observed blocked" in shown["followup_detail"] and shown["followup_run_id"]
    run = records.get_run(world.store, shown["followup_run_id"], ["north"])
    assert run["trigger"] == "schedule" and run["probes"] == 1 and run["passed"]
    assert run["results"][0]["group_name"] == "students" and run["results"][0]["url"] == url
    # nothing is due any more; the requester sees the verdict on their own list
    assert followup.due(world.store) == []
    mine = client.get("/api/governance/requests/mine", headers=world.headers(who("staff"))).json()
    assert {r["id"]: r["followup_status"] for r in mine}[rid] == "passed"


def test_an_unmade_change_shows_as_failed_until_it_is_made(rig: Rig, client: TestClient, world: GovWorld) -> None:
    url = "http://gambling.test/"
    assert _student_sees(rig, url) == "BLOCKPAGE"
    rid = _ask_and_approve(client, world, "unblock", url, "removed gambling.test from the students' list")
    followup.run_due(world.store, load_config(world.settings))
    shown = client.get(f"/api/governance/requests/{rid}", headers=world.headers(who("dsl"))).json()
    assert shown["followup_status"] == "failed"
    assert "expected allowed, observed blocked" in shown["followup_detail"]
    # now really make the change, and re-run the follow-up from the register
    banned = rig.lists / "bannedsitelist"
    banned.write_text(
        "".join(line for line in banned.read_text().splitlines(keepends=True) if "gambling_domains" not in line)
    )
    rig.reload()
    _wait_for(rig, url, "PASSED")
    again = client.post(f"/api/governance/requests/{rid}/followup", headers=world.headers(who("dsl")))
    assert again.status_code == 200, again.text
    assert again.json()["followup_status"] == "passed", again.json()["followup_detail"]
    csv_text = client.get(
        "/api/governance/register.csv", params={"school": "north"}, headers=world.headers(who("governor"))
    ).text
    line = next(row for row in csv_text.splitlines() if row.startswith(rid))
    assert "passed" in line and "removed gambling.test" in line
