"""Playwright + Debian chromium: DSL escalates the top alert; the head teacher sees it; the network manager
gets the 403 page. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from ui_testkit import ARTIFACTS, login
from workspace_testkit import World

pytestmark = pytest.mark.realparts


def test_dsl_escalates_head_sees_it_network_manager_cannot(browser: Browser, served: tuple[str, World]) -> None:
    base, world = served
    top = world.alerts["north"]["top"]

    page = login(browser, base, "dsl-north")
    expect(page).to_have_url(f"{base}/alerts")
    expect(page.locator("table.queue tbody tr").first).to_contain_text("Suicide or self-harm")
    page.screenshot(path=str(ARTIFACTS / "1-dsl-queue.png"), full_page=True)

    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    expect(page).to_have_url(f"{base}/alerts/{top}")
    chart = page.locator("#timeline-chart svg.timeline")
    expect(chart).to_be_visible()
    assert page.locator("#timeline-chart rect.allowed").count() > 10
    assert page.locator("#timeline-chart path.match").count() >= 1
    blurred = page.locator(".why .sensitive").first
    assert "blur" in blurred.evaluate("e => getComputedStyle(e).filter")
    page.screenshot(path=str(ARTIFACTS / "2-dsl-alert-detail.png"), full_page=True)

    page.get_by_label("Why (required)").fill("Searches about self-harm over an hour; needs the head today.")
    page.get_by_role("button", name="Escalate").click()
    expect(page.locator(".notice")).to_contain_text("escalated")
    page.screenshot(path=str(ARTIFACTS / "3-dsl-escalated.png"), full_page=True)
    page.context.close()

    head = login(browser, base, "head-teacher-north")
    expect(head).to_have_url(f"{base}/head")
    row = head.locator(f"a[href='/alerts/{top}']")
    expect(row).to_be_visible()
    head.screenshot(path=str(ARTIFACTS / "4-head-escalations.png"), full_page=True)
    row.click()
    expect(head.locator("h1")).to_contain_text("Suicide or self-harm")
    expect(head.locator(".facts")).to_contain_text("escalated")
    head.screenshot(path=str(ARTIFACTS / "5-head-alert.png"), full_page=True)
    head.context.close()

    nm = login(browser, base, "network-manager-north")
    expect(nm).to_have_url(f"{base}/network")
    nm.screenshot(path=str(ARTIFACTS / "6-network-health.png"), full_page=True)
    nm.get_by_role("link", name="Reports").click()
    expect(nm.locator("svg.bars").first).to_be_visible()
    assert "pupil.one" not in nm.content()  # aggregates only
    nm.screenshot(path=str(ARTIFACTS / "6b-network-reports.png"), full_page=True)
    response = nm.goto(f"{base}/alerts/{top}")
    assert response is not None and response.status == 403
    expect(nm.locator("h1")).to_have_text("Not permitted")
    assert "pupil.one" not in nm.content()
    nm.screenshot(path=str(ARTIFACTS / "7-network-manager-403.png"), full_page=True)
    nm.context.close()
