"""Playwright + Debian chromium: the DSL places a legal hold from an alert page and finds it on the Legal holds
page; the network manager has no Legal holds link and gets the 403 page. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from ui_testkit import ARTIFACTS, login
from workspace_testkit import World

pytestmark = pytest.mark.realparts


def test_dsl_places_a_hold_from_an_alert_and_sees_it_listed(browser: Browser, served: tuple[str, World]) -> None:
    base, world = served
    alert_id = world.alerts["north"]["low"]

    page = login(browser, base, "dsl-north")
    expect(page).to_have_url(f"{base}/alerts")
    page.goto(f"{base}/alerts/{alert_id}")
    form = page.locator("#hold-alert-form")
    expect(form).to_be_visible()
    page.get_by_label("Reason for holding this alert (required)").fill("Police enquiry: keep the evidence (synthetic)")
    page.get_by_label("Case reference (optional)").fill("CPOMS-2041")
    form.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "holds-0-dsl-alert-form.png"), full_page=True)
    form.get_by_role("button", name="Place legal hold").click()

    expect(page).to_have_url(re.compile(re.escape(f"{base}/holds?done=hold+") + r"\d+\+placed"), timeout=10_000)
    expect(page.locator(".notice")).to_contain_text(f"placed on alert {alert_id[:8]}")
    row = page.locator("table.holds tbody tr", has=page.locator(f"a[href='/alerts/{alert_id}']"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Police enquiry: keep the evidence")
    expect(row).to_contain_text("CPOMS-2041")
    expect(row).to_contain_text("none yet")
    expect(page.locator("nav[aria-label='Main'] a[aria-current='page']")).to_have_text("Legal holds")
    page.screenshot(path=str(ARTIFACTS / "holds-1-dsl-list.png"), full_page=True)

    page.goto(f"{base}/alerts/{alert_id}")
    expect(page.locator(".facts .badge.hold")).to_have_text("legal hold")
    expect(page.locator("#hold-alert-form")).to_have_count(0)
    page.goto(f"{base}/retention")
    expect(page.locator("h1")).to_contain_text("Retention: north")
    expect(page.locator("table.policy")).to_contain_text("90 days")
    page.screenshot(path=str(ARTIFACTS / "holds-2-dsl-retention.png"), full_page=True)
    page.context.close()

    nm = login(browser, base, "network-manager-north")
    expect(nm).to_have_url(f"{base}/network")
    expect(nm.locator("nav[aria-label='Main']")).not_to_contain_text("Legal holds")
    nm.goto(f"{base}/holds")
    expect(nm.locator("h1")).to_have_text("Not permitted")
    nm.context.close()
