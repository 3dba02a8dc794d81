"""Alert queue and alert detail latency with 100,000 SYNTHETIC alerts and 50 concurrent users.

The server is `vigil serve` in a child process; this script is the load generator (a second process) on
loopback. Prints p50/p95/p99 per route; the target is p95 < 100 ms for both.

    .venv/bin/python bench/bench_api.py [--alerts 100000] [--users 50] [--requests 40] [--think-ms 0] [--workers 1]

--think-ms 0 is a closed loop (each user fires its next request the moment the last answers: the worst
case, which measures saturation); --think-ms 1000 is 50 people each clicking once a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1]))

from cases import users  # noqa: E402
from cases.store import CaseStore  # noqa: E402
from cases.synthetic import synthetic_alerts  # noqa: E402

PASSWORD = "bench password 1"
SCHOOLS = ("school-a", "school-b")


def seed(data: Path, n: int) -> list[str]:
    """n synthetic alerts and one DSL per school; returns the alert ids of school-a."""
    store = CaseStore.from_url(f"sqlite:///{data / 'cases.db'}")
    store.migrate()
    ids: list[str] = []
    started = time.perf_counter()
    for start in range(0, n, 5000):
        batch = synthetic_alerts(min(5000, n - start), SCHOOLS, seed=start, pupils=5000)
        # distinct ids across batches: shift each batch's days so episodes never collide
        batch = [a.__class__(**{**a.__dict__, "id": f"{start + i:08d}{a.id[:12]}"}) for i, a in enumerate(batch)]
        store.upsert_alerts(batch)
        ids += [a.id for a in batch if a.school == "school-a" and a.subject_kind == "pupil"]
    print(f"seeded {n:,} alerts in {time.perf_counter() - started:.1f} s")
    users.create_user(store, "bench-dsl", "dsl", list(SCHOOLS), PASSWORD)
    store.dispose()
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def user_session(
    client: httpx.AsyncClient,
    token: str,
    ids: list[str],
    requests: int,
    out: dict[str, list[float]],
    rng: random.Random,
    think_ms: int = 0,
) -> None:
    """One simulated DSL: alternate queue pages (with filters) and alert details."""
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(requests):
        if i % 2 == 0:
            params = {
                "school": "school-a",
                "status": "new",
                "limit": "50",
                "offset": str(rng.choice((0, 0, 0, 50, 100))),
            }
            if rng.random() < 0.3:
                params["min_severity"] = "4"
            route, url = "queue", "/api/alerts"
        else:
            route, url, params = "detail", f"/api/alerts/{rng.choice(ids)}", {}
        t0 = time.perf_counter()
        r = await client.get(url, params=params, headers=headers)
        out[route].append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
        if think_ms:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)


async def load(base: str, ids: list[str], n_users: int, requests: int, think_ms: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"queue": [], "detail": []}
    limits = httpx.Limits(max_connections=n_users, max_keepalive_connections=n_users)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        tokens = []
        for _ in range(n_users):
            r = await client.post("/api/token", data={"username": "bench-dsl", "password": PASSWORD})
            tokens.append(r.json()["access_token"])
        # warm-up, not measured
        await asyncio.gather(
            *(user_session(client, t, ids, 2, {"queue": [], "detail": []}, random.Random(9)) for t in tokens[:5])
        )
        started = time.perf_counter()
        await asyncio.gather(
            *(user_session(client, t, ids, requests, out, random.Random(k), think_ms) for k, t in enumerate(tokens))
        )
        elapsed = time.perf_counter() - started
    total = sum(len(v) for v in out.values())
    print(f"{total:,} requests from {n_users} concurrent users in {elapsed:.1f} s ({total / elapsed:.0f} req/s)")
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--alerts", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--requests", type=int, default=40, help="requests per user")
    ap.add_argument("--think-ms", type=int, default=0, help="mean pause between one user's requests")
    ap.add_argument("--workers", type=int, default=1, help="vigil serve --workers")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "var"
        data.mkdir()
        ids = seed(data, args.alerts)
        port = free_port()
        env = {**os.environ, "VIGIL_DATA_DIR": str(data)}
        vigil = Path(sys.executable).with_name("vigil")
        server = subprocess.Popen(
            [str(vigil), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)], env=env
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            out = asyncio.run(load(base, ids, args.users, args.requests, args.think_ms))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"alerts={args.alerts:,} users={args.users} think_ms={args.think_ms} workers={args.workers} "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    for route, values in out.items():
        print(
            f"{route:7s} n={len(values):5d} p50={pct(values, 50):6.1f} ms  p95={pct(values, 95):6.1f} ms  "
            f"p99={pct(values, 99):6.1f} ms  (target p95 < 100 ms)"
        )


if __name__ == "__main__":
    main()
