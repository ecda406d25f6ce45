"""The patient pages meet WCAG 2.1 AA (axe-core, vendored), fit a 360×640 phone, have large
touch targets, and can be used with the keyboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Frame, Page, expect

from tests.support.browser import own_camera_shows
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe.min.js"
PHONE = {"width": 360, "height": 640}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def axe_violations(page: Page | Frame) -> list[dict[str, Any]]:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async (tags) => {
            const found = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return found.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) }));
        }""",
        WCAG_AA,
    )
    return list(result)


async def phone_page(browser: Browser, stack: Stack) -> Page:
    # bypass_csp lets the test inject axe; the pages' own CSP forbids any foreign script.
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True
    )
    await context.grant_permissions(["camera", "microphone"], origin=stack.urls[0])
    return await context.new_page()


async def assert_fits_the_phone(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page scrolls sideways: {width}px"
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, select, input, a.button')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.dataset.testid || el.id, el.getBoundingClientRect()])
            .filter(([, box]) => box.height < 24 || box.width < 24)
            .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""
    )
    assert small == [], f"touch targets too small: {small}"


async def test_join_page_waiting_room_and_error_page_meet_wcag_aa_on_a_phone(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    page = await phone_page(browser, stack)
    await page.goto(await stack.new_patient_url(stack.urls[0], demo["clinic_id"]))
    await own_camera_shows(page)
    assert await axe_violations(page) == []
    await assert_fits_the_phone(page)

    await page.get_by_test_id("name").fill("Aase Tilgængelig")
    await page.get_by_test_id("accept-terms").check()
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("queue-position")).to_contain_text("Du er")
    assert await axe_violations(page) == []
    await assert_fits_the_phone(page)
    await page.get_by_test_id("leave").click()
    await expect(page.get_by_test_id("end")).to_be_visible()
    assert await axe_violations(page) == []

    await page.goto(f"{stack.urls[0]}/j/{'x' * 43}?lang=en")
    assert await axe_violations(page) == []
    await page.context.close()


async def test_a_patient_can_join_with_the_keyboard_alone(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    page = await phone_page(browser, stack)
    await page.goto(await stack.new_patient_url(stack.urls[0], demo["clinic_id"]))
    await page.get_by_test_id("name").focus()
    await page.keyboard.type("Kim Tastatur")
    focused = None
    for _ in range(20):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.dataset.testid || ''")
        if focused == "accept-terms":
            await page.keyboard.press("Space")
        if focused == "join":
            break
    assert focused == "join", "the join button cannot be reached with Tab"
    assert await page.get_by_test_id("accept-terms").is_checked()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("queue-position")).to_contain_text("Du er")
    for _ in range(10):  # the leave button is reachable too
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.dataset.testid === 'leave'"):
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("end")).to_be_visible()
    await page.context.close()


@pytest.mark.parametrize(
    "path", ["/", "/login", "/j/" + "x" * 43, "/no/such/page"], ids=["home", "login", "link", "404"]
)
async def test_every_page_starts_with_a_skip_link_to_its_content(
    browser: Browser, stack: Stack, path: str
) -> None:
    page = await phone_page(browser, stack)
    await page.goto(f"{stack.urls[0]}{path}")
    skip = page.get_by_test_id("skip-link")
    await expect(skip).not_to_be_in_viewport()  # out of sight until the keyboard arrives
    await page.keyboard.press("Tab")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await expect(skip).to_have_text("Spring til indholdet")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert await axe_violations(page) == []
    await page.context.close()
