"""`vigil serve` starts the retention and filter-test schedules with the app and stops them with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schedules import background_jobs
from vigil.settings import Settings


def test_jobs_run_while_serving_and_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    import filtertests.schedule as ft
    import retention.schedule as rs

    monkeypatch.setattr(rs, "run_due", lambda settings, *a, **k: ran.append("retention"))
    monkeypatch.setattr(ft, "run_due", lambda settings, *a, **k: ran.append("filtertests"))
    import governance.followup as gf

    monkeypatch.setattr(gf, "run_due", lambda store, config, *a, **k: ran.append("governance"))
    settings = Settings(data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        for _ in range(100):
            if {"retention", "filtertests", "governance"} <= set(ran):
                break
            import time

            time.sleep(0.05)
    assert {"retention", "filtertests", "governance"} <= set(ran)
    off = create_app(Settings(data_dir=tmp_path / "var2", serve={"background_jobs": False}))  # type: ignore[call-arg]
    assert background_jobs(off) == []
