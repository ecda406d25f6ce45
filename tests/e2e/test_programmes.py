"""Pilot honoraria in real Chromium: the admin records a questionnaire, corrects an entry and
pays the GP; the GP then reads their own statement. Both pages meet WCAG 2.1 AA."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from server.clock import local_day, now
from tests.e2e.test_accessibility import axe_violations
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


async def _login(browser: Browser, base: str, account: dict[str, str], goal: str) -> Page:
    # bypass_csp lets the test inject axe; the page's own CSP forbids any foreign script.
    page = await (await browser.new_context(bypass_csp=True)).new_page()
    await page.goto(f"{base}/login?next={goal}")
    await page.get_by_test_id("username").fill(account["username"])
    await page.get_by_test_id("password").fill(account["password"])
    await page.get_by_test_id("login").click()
    await page.goto(f"{base}{goal}")
    return page


async def test_the_admin_pays_honoraria_and_the_gp_reads_the_statement(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    page = await _login(browser, base, demo["admin"], "/admin")
    await page.get_by_test_id("programmes-link").click()
    await page.get_by_test_id("programme").get_by_role("link").click()
    report = page.get_by_test_id("gp-report")
    await expect(report.get_by_test_id("accrued")).to_have_text("2.000,00 kr")
    assert await axe_violations(page) == []

    await page.get_by_test_id("questionnaire-on").fill(local_day(now()))
    await page.get_by_test_id("record-questionnaire").click()
    await expect(report.get_by_test_id("accrued")).to_have_text("2.500,00 kr")
    await page.get_by_test_id("reverse-entry").select_option(index=0)
    await page.get_by_test_id("reason").fill("Skemaet var ikke udfyldt helt")
    await page.get_by_test_id("reverse").click()
    await expect(report.get_by_test_id("reversed")).to_have_text("500,00 kr")
    await page.get_by_test_id("pay").click()
    await expect(report.get_by_test_id("paid-total")).to_have_text("2.000,00 kr")
    await expect(report.get_by_test_id("outstanding-total")).to_have_text("0,00 kr")
    await expect(report.get_by_test_id("cap-status")).to_contain_text("8.000,00 kr")
    assert await axe_violations(page) == []

    gp = await _login(browser, base, demo["gp"], "/statement")
    mine = gp.get_by_test_id("my-programme")
    await expect(mine.get_by_test_id("paid-total")).to_have_text("2.000,00 kr")
    await expect(gp.get_by_test_id("statement")).to_contain_text("Skemaet var ikke udfyldt helt")
    assert await axe_violations(gp) == []
