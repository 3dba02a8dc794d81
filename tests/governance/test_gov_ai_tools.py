"""The AI-service list and the usage report: validation, host matching, policy per group, weekly series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from govkit import ai_rows, write_events

from governance import ai_tools
from governance.config import AiPolicy
from governance.errors import GovernanceInvalid
from vigil.settings import Settings
from warehouse.query import Warehouse


def test_the_shipped_list_is_valid_and_covers_every_kind() -> None:
    svcs = ai_tools.services()
    assert len(svcs) >= 30
    assert {s.category for s in svcs} == set(ai_tools.AI_CATEGORIES)
    assert {"chatgpt", "character_ai", "midjourney", "photomath"} <= {s.id for s in svcs}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            '[[service]]\nid="a"\nname="A"\nvendor="v"\ncategory="chat_assistant"\ndomains=["a.com"]\n'
            '[[service]]\nid="b"\nname="B"\nvendor="v"\ncategory="chat_assistant"\ndomains=["x.a.com"]\n',
            "overlaps",
        ),
        ('[[service]]\nid="a"\nname="A"\nvendor="v"\ncategory="oracle"\ndomains=["a.com"]\n', "unknown category"),
        ('[[service]]\nid="a"\nname="A"\nvendor="v"\ncategory="chat_assistant"\n', "lacks"),
        ("[[service]\n", "ai_services.toml"),
    ],
)
def test_bad_lists_are_refused(text: str, error: str) -> None:
    with pytest.raises(GovernanceInvalid, match=error):
        ai_tools.parse_services(text)


def test_tag_matches_hosts_and_subdomains_only() -> None:
    df = pl.DataFrame(
        {
            "host": [
                "chatgpt.com",
                "cdn.oaiusercontent.com",
                "notchatgpt.com",
                "openai.com.evil.test",
                "copilot.microsoft.com",
                "www.microsoft.com",
                None,
            ]
        }
    )
    out = dict(zip(df["host"].to_list(), ai_tools.tag(df)["ai_service"].to_list(), strict=True))
    assert out["chatgpt.com"] == out["cdn.oaiusercontent.com"] == "chatgpt"
    assert out["copilot.microsoft.com"] == "microsoft_copilot"
    assert out["notchatgpt.com"] is None and out["openai.com.evil.test"] is None and out["www.microsoft.com"] is None


def test_policy_per_group() -> None:
    policy = AiPolicy(approved=["microsoft_copilot"], groups={"staff": ["chatgpt"], "sixth_form": []})
    assert policy.approved_for("students") == {"microsoft_copilot"}
    assert policy.approved_for(None) == {"microsoft_copilot"}
    assert policy.approved_for("staff") == {"chatgpt"} and policy.approved_for("sixth_form") == frozenset()


def test_usage_by_group_week_and_policy(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    now = datetime.now(UTC)
    write_events(settings, "ai", ai_rows("north", now))
    wh = Warehouse(settings.warehouse_dir, threads=1)
    try:
        usage = ai_tools.usage(
            wh,
            "north",
            now - timedelta(days=10),
            now + timedelta(minutes=1),
            AiPolicy(approved=["microsoft_copilot"], groups={"staff": ["chatgpt"]}),
        )
        empty = ai_tools.usage(wh, "south", now - timedelta(days=10), now, AiPolicy())
    finally:
        wh.close()
    rows = {(r["user_group"], r["service"]): r for r in usage["by_group"]}
    assert rows[("students", "chatgpt")]["events"] == 5 and not rows[("students", "chatgpt")]["approved"]
    assert rows[("students", "microsoft_copilot")]["approved"] and rows[("staff", "chatgpt")]["approved"]
    assert rows[("students", "character_ai")]["users"] == 1
    assert usage["events"] == 20 and usage["unapproved_events"] == 5 + 2 + 4
    assert sum(w["approved"] + w["unapproved"] for w in usage["by_week"]) == 20
    assert usage["by_category"] == {"chat_assistant": 14, "ai_companion": 4, "homework_solver": 2}
    assert empty["events"] == 0 and empty["by_group"] == []
