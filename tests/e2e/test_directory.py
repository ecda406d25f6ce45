"""A municipality nurse finds a clinic in the directory and reads its back-door number, on a
phone, with pages that meet WCAG 2.1 AA."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Browser, expect

from server.clock import now
from server.store.absences import HOLIDAY, Substitute, add_absence
from server.store.clinics import create_clinic
from server.waitingroom.hours import WEEKDAYS
from tests.e2e.test_accessibility import assert_fits_the_phone, axe_violations, phone_page
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

BACK_DOOR = "+45 70 98 76 54"
COVER = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")


async def test_a_nurse_finds_the_back_door_number_on_a_phone(
    browser: Browser, stack: Stack
) -> None:
    ydernummer = f"9{secrets.randbelow(10**5):05d}"
    async with stack.client() as redis:
        clinic = await create_clinic(
            redis, "Lægehuset Tilgængelig", ydernummer, "+45 86 15 00 00",
            back_door_phone=BACK_DOOR, address="Åbyhøjgade 12, 8230 Åbyhøj",
            opening_hours={day: [("08:00", "16:00")] for day in WEEKDAYS[:5]},
        )  # fmt: skip
        t = now()
        await add_absence(redis, clinic.id, HOLIDAY, t + 86400, t + 3 * 86400, COVER, at=t)
    username, password, _ = await stack.add_staff("Mette Berg", "Hjemmesygeplejerske")
    base = stack.urls[0]

    page = await phone_page(browser, stack)
    await page.goto(f"{base}/login")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(password)
    await page.get_by_test_id("login").click()
    await page.wait_for_url(f"{base}/directory")
    assert await axe_violations(page) == []
    await assert_fits_the_phone(page)

    await page.get_by_test_id("directory-q").fill("aabyhoj")
    await page.get_by_test_id("directory-q").press("Enter")
    result = page.get_by_test_id("directory-result").filter(has_text="Lægehuset Tilgængelig")
    await expect(result).to_be_visible()
    assert await axe_violations(page) == []
    await assert_fits_the_phone(page)

    await result.get_by_role("link").click()
    await page.wait_for_url(f"{base}/directory/clinics/{ydernummer}")
    await expect(page.get_by_test_id("back-door-phone")).to_have_text(BACK_DOOR)
    await expect(page.get_by_test_id("next-absence-substitute")).to_have_text(COVER.name)
    assert await axe_violations(page) == []
    await assert_fits_the_phone(page)
    await page.context.close()
