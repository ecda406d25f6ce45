"""The budget dashboard in real Chromium: the admin records spending with the form and sees
it in the table and the server-drawn chart, and the page meets WCAG 2.1 AA."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_accessibility import axe_violations
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


async def test_the_admin_records_spending_and_sees_it_in_the_table_and_the_chart(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    # bypass_csp lets the test inject axe; the page's own CSP forbids any foreign script.
    page = await (await browser.new_context(bypass_csp=True)).new_page()
    await page.goto(f"{base}/login?next=/admin/budgets")
    await page.get_by_test_id("username").fill(demo["admin"]["username"])
    await page.get_by_test_id("password").fill(demo["admin"]["password"])
    await page.get_by_test_id("login").click()
    await page.goto(f"{base}/admin/budgets")
    chart = page.locator("svg.budget-chart")
    await expect(chart).to_be_visible()
    bar = chart.locator('g[data-line="ai_notetaker"] rect.spent')
    assert await bar.evaluate("(r) => r.getBBox().width") == 0
    # The stylesheet colours the chart: spent in the brand colour, budget with a muted edge.
    assert await bar.evaluate("(r) => getComputedStyle(r).fill") == "rgb(11, 92, 173)"
    budget = chart.locator('g[data-line="ai_notetaker"] rect.budget')
    assert await budget.evaluate("(r) => getComputedStyle(r).stroke") == "rgb(74, 85, 97)"
    assert await axe_violations(page) == []

    await page.get_by_test_id("line").select_option("ai_notetaker")
    await page.get_by_test_id("on").fill("2025-03-01")
    await page.get_by_test_id("amount").fill("25.000")
    await page.get_by_test_id("text").fill("Licens til talegenkendelse")
    await page.get_by_test_id("record-spending").click()
    await expect(page.get_by_test_id("budget-recorded")).to_be_visible()
    row = page.locator('[data-testid="budget-line"][data-line-id="ai_notetaker"]')
    await expect(row.get_by_test_id("spent")).to_have_text("25.000,00 kr")
    await expect(row.get_by_test_id("remaining")).to_have_text("575.000,00 kr")
    assert await bar.evaluate("(r) => r.getBBox().width") > 0
    assert await axe_violations(page) == []
