"""The admin's and the municipality's pages on a phone and a laptop: wide tables scroll in
their own box, never the page; the quarter selector is an ordinary control; quarters are
written one way, by name; the top bar is one line; the directory has one name and the
organisation admin a way to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.test_accessibility import axe_violations
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 360, "height": 640}, "laptop": {"width": 1024, "height": 768}}
RAW_QUARTER = re.compile(r"\b\d{4}Q[1-4]\b")


async def logged_in(
    browser: Browser, base: str, account: dict[str, str], size: str, home: str = "/admin"
) -> Page:
    # bypass_csp lets the test inject axe; the page's own CSP forbids any foreign script.
    context = await browser.new_context(viewport=SIZES[size], bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_test_id("username").fill(account["username"])
    await page.get_by_test_id("password").fill(account["password"])
    await page.get_by_test_id("login").click()
    await page.wait_for_url(f"{base}{home}")
    return page


async def assert_no_sideways_page(page: Page) -> None:
    """The page itself never scrolls sideways; a table too wide scrolls inside its box."""
    wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    past = await page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter((el) => !el.closest('.table-scroll'))
            .map((el) => el.tagName + '.' + el.className + '#' + (el.dataset.testid || el.id))
            .slice(0, 8)"""
    )
    assert wide <= 0, f"the page scrolls sideways by {wide}px: {past}"
    loose = await page.evaluate(
        """() => [...document.querySelectorAll('table')]
            .filter((t) => !t.closest('.table-scroll'))
            .map((t) => t.dataset.testid)"""
    )
    assert loose == [], f"tables outside a scroll box: {loose}"


@pytest.mark.parametrize("size", ["phone", "laptop"])
async def test_programme_and_subscription_pages_fit_and_name_their_quarters(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    page = await logged_in(browser, stack.urls[0], demo["admin"], size)
    await page.get_by_test_id("programmes-link").click()
    await page.get_by_test_id("programme").get_by_role("link").click()
    await expect(page.get_by_test_id("rules")).to_be_visible()
    await assert_no_sideways_page(page)
    assert not RAW_QUARTER.search(await page.inner_text("main"))
    assert await axe_violations(page) == []

    await page.goto(f"{stack.urls[0]}/admin/subscriptions")
    quarter = page.get_by_test_id("quarter")
    await expect(quarter).to_be_visible()
    box = await quarter.bounding_box()
    assert box is not None and box["height"] < 60, f"the quarter selector is {box}"
    await expect(quarter.locator("option").first).to_have_text(re.compile(r"^\d\. kvartal \d{4}$"))
    await assert_no_sideways_page(page)
    assert not RAW_QUARTER.search(await page.inner_text("main"))
    assert await axe_violations(page) == []
    await page.context.close()


async def assert_one_line_top_bar(page: Page) -> None:
    tops = await page.evaluate(
        """() => [...document.querySelectorAll('.topbar .brand, .topbar-nav > *')]
            .filter((el) => el.getBoundingClientRect().width > 1)
            .map((el) => el.textContent.trim())"""
    )
    bar = await page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] < 70, f"the top bar is {bar['height']}px tall: {tops}"
    await expect(page.get_by_test_id("who")).to_have_count(1)  # still there for screen readers


@pytest.mark.parametrize("size", ["phone", "laptop"])
async def test_the_nurse_has_a_one_line_top_bar_and_the_org_admin_a_way_to_the_directory(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    base = stack.urls[0]
    nurse = await logged_in(browser, base, demo["staff"], size, "/directory")
    await assert_one_line_top_bar(nurse)
    await assert_no_sideways_page(nurse)
    await expect(nurse.get_by_role("heading", level=1)).to_have_text("Klinikregister")
    await nurse.context.close()

    org_admin = await logged_in(browser, base, demo["org_admin"], size, "/org")
    await assert_no_sideways_page(org_admin)
    assert "lægekatalog" not in (await org_admin.inner_text("body")).lower()
    await org_admin.get_by_test_id("directory-link").click()
    await org_admin.wait_for_url(f"{base}/directory")
    await expect(org_admin.get_by_role("heading", level=1)).to_have_text("Klinikregister")
    assert await axe_violations(org_admin) == []
    await org_admin.context.close()
