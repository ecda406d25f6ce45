"""The admin's data-protection pages (retention, access request, audit) on a phone and a
laptop: nothing scrolls the page sideways, and axe finds no WCAG violations."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_admin_pages import assert_no_sideways_page, logged_in
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", ["phone", "laptop"])
async def test_the_data_protection_pages_fit_and_pass_axe(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    page = await logged_in(browser, stack.urls[0], demo["admin"], size)
    await page.get_by_test_id("retention-link").click()
    await expect(page.get_by_test_id("retention-clinics")).to_be_visible()
    await assert_no_sideways_page(page)
    assert await axe_violations(page) == []

    await page.goto(f"{stack.urls[0]}/admin/subject")
    await page.locator("#consultation").fill(demo["consultation_id"])
    await page.get_by_test_id("subject-find").click()
    await expect(page.get_by_test_id("subject-consultation")).to_have_count(1)
    await assert_no_sideways_page(page)
    assert await axe_violations(page) == []

    await page.goto(f"{stack.urls[0]}/admin/audit")
    await expect(page.get_by_test_id("audit-entries")).to_be_visible()
    await assert_no_sideways_page(page)
    assert await axe_violations(page) == []
    await page.context.close()
