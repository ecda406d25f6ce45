"""A GP records an absence in Chromium; the clinic's patients are sent to the substitute.

The test makes a clinic and a GP of its own, so the demo clinic that other browser tests
share is never absent.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, expect

from server.clock import local
from server.consultations.links import issue_link
from server.store.clinics import create_clinic, issue_dropin_link
from server.store.consultations import Kind, create_consultation
from server.store.users import create_user
from server.waitingroom.hours import WEEKDAYS
from tests.e2e.test_accessibility import axe_violations
from tests.support.browser import gp_login, media_context, patient_join
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SUBSTITUTE = "Lægerne i Nørregade"
SUBSTITUTE_PHONE = "+45 33 12 34 56"


@dataclass(frozen=True)
class OwnClinic:
    username: str
    password: str
    patient_url: str
    dropin_url: str


@pytest.fixture
async def own_clinic(stack: Stack) -> AsyncIterator[OwnClinic]:
    """A clinic open for drop-ins all day, its GP, a booked patient link and the drop-in link."""
    base = stack.urls[0]
    client = aioredis.from_url(stack.redis.url, decode_responses=True)
    try:
        suffix = secrets.token_hex(4)
        clinic = await create_clinic(
            client,
            "Lægehuset Fravær",
            f"7{int(suffix, 16) % 100000:05d}",
            "+45 70 11 22 33",
            {day: [("00:00", "24:00")] for day in WEEKDAYS},
        )
        password = secrets.token_urlsafe(12)
        username = f"gp-closed-{suffix}"
        await create_user(client, username, password, "Dr. Ida Berg", "gp", clinic.id)
        c = await create_consultation(
            client, clinic.id, Kind.SCHEDULED, scheduled_start=time.time() + 600
        )
        link, _ = await issue_link(client, c)
        dropin = await issue_dropin_link(client, clinic.id)
    finally:
        await client.aclose()
    yield OwnClinic(username, password, f"{base}/j/{link}", f"{base}/d/{dropin}")


def local_input(ts: float) -> str:
    return local(ts).strftime("%Y-%m-%dT%H:%M")


async def test_an_absence_sends_patients_to_the_substitute(
    browser: Browser, stack: Stack, own_clinic: OwnClinic
) -> None:
    base = stack.urls[0]
    gp_context = await browser.new_context(bypass_csp=True)  # only so the test can inject axe
    gp = await gp_context.new_page()
    await gp_login(gp, base, own_clinic.username, own_clinic.password)
    await gp.get_by_test_id("clinic-settings-link").click()
    await gp.wait_for_url(f"{base}/clinic/settings")
    await expect(gp.get_by_test_id("no-absences")).to_be_visible()

    # The GP records a holiday that began an hour ago and lasts two days.
    await gp.get_by_test_id("absence-kind").select_option("holiday")
    await gp.get_by_test_id("absence-start").fill(local_input(time.time() - 3600))
    await gp.get_by_test_id("absence-end").fill(local_input(time.time() + 2 * 86400))
    await gp.get_by_test_id("substitute-name").fill(SUBSTITUTE)
    await gp.get_by_test_id("substitute-phone").fill(SUBSTITUTE_PHONE)
    await gp.get_by_test_id("add-absence").click()
    await expect(gp.get_by_test_id("notice")).to_contain_text("Fraværet er tilføjet")
    await expect(gp.get_by_test_id("absence")).to_have_count(1)
    await expect(gp.get_by_test_id("absence")).to_contain_text(SUBSTITUTE)
    await expect(gp.get_by_test_id("clinic-status")).to_have_attribute("data-reason", "absent")

    # The booked patient's link names the substitute and offers no way into the queue.
    patient_context = await media_context(browser, base)
    patient = await patient_context.new_page()
    response = await patient.goto(own_clinic.patient_url)
    assert response is not None and response.status == 200
    await expect(patient.get_by_test_id("closed")).to_contain_text("Klinikken holder ferie")
    await expect(patient.get_by_test_id("substitute-name")).to_have_text(SUBSTITUTE)
    await expect(patient.get_by_test_id("substitute-phone")).to_have_text(SUBSTITUTE_PHONE)
    await expect(patient.get_by_test_id("substitute-phone")).to_have_attribute(
        "href", "tel:+4533123456"
    )
    await expect(patient.get_by_test_id("join")).to_have_count(0)
    await patient.get_by_test_id("lang-switch").click()
    await expect(patient.get_by_test_id("closed")).to_contain_text("The clinic is on holiday")
    await expect(patient.get_by_test_id("substitute-name")).to_have_text(SUBSTITUTE)

    # So does the drop-in link, although the video hour is open all day.
    await patient.goto(own_clinic.dropin_url)
    await expect(patient.get_by_test_id("substitute-phone")).to_have_text(SUBSTITUTE_PHONE)
    await expect(patient.get_by_test_id("join")).to_have_count(0)

    # The console says why nobody arrives, and leads to the absence.
    await gp.goto(f"{base}/console")
    notice = gp.get_by_test_id("absent-notice")
    await expect(notice).to_contain_text("Klinikken er registreret som fraværende")
    await expect(notice).to_contain_text(SUBSTITUTE_PHONE)
    assert await axe_violations(gp) == []
    await notice.get_by_role("link").click()
    await gp.wait_for_url(f"{base}/clinic/settings#absences")

    # The GP removes the absence, and the link lets the patient in again.
    await gp.get_by_test_id("remove-absence").click()
    await expect(gp.get_by_test_id("notice")).to_contain_text("Fraværet er fjernet")
    await expect(gp.get_by_test_id("no-absences")).to_be_visible()
    await patient.goto(own_clinic.patient_url)
    await expect(patient.get_by_test_id("join")).to_be_visible()
    await expect(patient.get_by_test_id("closed")).to_have_count(0)

    await patient_context.close()
    await gp_context.close()


async def test_the_settings_page_explains_a_mistake_on_a_phone(
    browser: Browser, stack: Stack, own_clinic: OwnClinic
) -> None:
    base = stack.urls[0]
    context = await browser.new_context(viewport={"width": 360, "height": 640})
    page = await context.new_page()
    await gp_login(page, base, own_clinic.username, own_clinic.password)
    await page.goto(f"{base}/clinic/settings")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # fits a phone
    await page.get_by_test_id("hours_mon").fill("9-8")
    await page.get_by_test_id("wait-limit").fill("15")
    await page.get_by_test_id("save-settings").click()
    await expect(page.get_by_test_id("settings-errors")).to_be_visible()
    await expect(page.get_by_test_id("hours_mon-error")).to_contain_text("Skriv tiderne som")
    await expect(page.get_by_test_id("hours_mon")).to_have_value("9-8")
    await page.get_by_test_id("hours_mon").fill("08:00-09:00")
    await page.get_by_test_id("save-settings").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Indstillingerne er gemt")
    await expect(page.get_by_test_id("wait-limit")).to_have_value("15")
    await expect(page.get_by_test_id("hours_mon")).to_have_value("08:00-09:00")
    await context.close()


async def test_a_drop_in_visitor_who_leaves_goes_from_todays_list(
    browser: Browser, stack: Stack, own_clinic: OwnClinic
) -> None:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    gp = await gp_context.new_page()
    await gp_login(gp, base, own_clinic.username, own_clinic.password)
    visitor_context = await media_context(browser, base)
    visitor = await visitor_context.new_page()
    await patient_join(visitor, own_clinic.dropin_url, "Vibeke Forbi")
    today = gp.locator("#today-list li", has_text="Vibeke Forbi")
    await expect(today).to_have_count(1)
    await visitor.get_by_test_id("leave").click()
    await expect(visitor.get_by_test_id("end")).to_be_visible()
    await expect(today).to_have_count(0)  # gone, not left behind with an invite button
    await gp.reload()
    await expect(gp.locator("#today-list li").first).to_be_attached()  # the list is drawn
    await expect(today).to_have_count(0)
    await visitor_context.close()
    await gp_context.close()
