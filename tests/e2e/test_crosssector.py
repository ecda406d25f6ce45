"""A three-way call in real Chromium: the GP, a home-care nurse from the municipality and
the patient at home. Every page must receive two advancing remote videos and audio."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_call import assert_media_flows
from tests.support.browser import (
    all_remote_media,
    end_consultation,
    gp_login,
    media_context,
    patient_join,
)
from tests.support.stack import Stack

NURSE = "Sara Sygeplejerske"
PHONE = {"width": 390, "height": 844}

NO_SIDEWAYS_SCROLL_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const videos = [...document.querySelectorAll('[data-testid="remote-video"]')];
  return document.documentElement.scrollWidth <= width
    && videos.every((v) => {
      const box = v.getBoundingClientRect();
      return box.left >= 0 && box.right <= width;
    });
}
"""


async def everyone_sees_and_hears_two_others(pages: list[Page]) -> None:
    for page in pages:
        for media in await all_remote_media(page, 2):
            assert_media_flows(media)


@pytest.mark.e2e
async def test_gp_nurse_and_patient_in_one_call(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp_base, patient_base = stack.urls[0], stack.urls[1]
    patient_url = await stack.new_patient_url(patient_base, demo["clinic_id"])
    consultation_id = await stack.consultation_id(patient_url)
    username, password, municipality = await stack.add_staff(NURSE, "Hjemmesygeplejerske")

    gp_context = await media_context(browser, gp_base)
    gp = await gp_context.new_page()
    await gp_login(gp, gp_base, demo["gp"]["username"], demo["gp"]["password"])

    # The GP invites the municipality from today's list and gets a link to send.
    row = gp.locator(f'#today-list li[data-consultation="{consultation_id}"]')
    await row.get_by_test_id("invite").click()
    await row.get_by_test_id("invite-organisation").select_option(label=municipality)
    await row.get_by_test_id("invite-send").click()
    link = row.get_by_test_id("invite-link")
    invite_url = await link.input_value()
    assert "/i/" in invite_url
    # Labelled, the whole link in view (nothing cut off), and a button that copies it.
    await expect(row.get_by_text("Invitationslink; send det til den inviterede")).to_be_visible()
    await expect(gp.get_by_label("Invitationslink; send det til den inviterede")).to_have_value(
        invite_url
    )
    assert await link.evaluate("(el) => el.scrollHeight <= el.clientHeight + 1")
    assert await link.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    await gp_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gp_base)
    await row.get_by_test_id("invite-copy").click()
    await expect(row.get_by_test_id("invite-copied")).to_have_text("Linket er kopieret.")
    assert await gp.evaluate("navigator.clipboard.readText()") == invite_url

    # The nurse, on a phone, logs in through the link and waits to be let in.
    # bypass_csp lets the test inject axe; the pages' own CSP forbids any foreign script.
    nurse_context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    await nurse_context.grant_permissions(["camera", "microphone"], origin=gp_base)
    nurse = await nurse_context.new_page()
    await nurse.goto(invite_url)
    await nurse.get_by_test_id("username").fill(username)
    await nurse.get_by_test_id("password").fill(password)
    await nurse.get_by_test_id("login").click()
    await nurse.get_by_test_id("join").click()
    await expect(nurse.get_by_test_id("pro-waiting")).to_be_visible()
    assert await axe_violations(nurse) == []

    # The GP sees who is waiting, and talks with the nurse before the patient comes in.
    waiting = gp.get_by_test_id("lobby-list").locator("li", has_text=NURSE)
    await expect(waiting).to_contain_text("Hjemmesygeplejerske")
    await expect(waiting).to_contain_text(municipality)
    await waiting.get_by_test_id("admit-professional").click()
    await expect(nurse.locator(".tile")).to_have_count(1)

    patient_context = await media_context(browser, patient_base)
    patient = await patient_context.new_page()
    await patient_join(patient, patient_url, "Karen Jensen")
    await gp.get_by_test_id("admit-own-patient").click()

    pages = [gp, nurse, patient]
    await everyone_sees_and_hears_two_others(pages)
    nurse_tile = patient.locator('.tile[data-role="staff"]')
    await expect(nurse_tile).to_contain_text(f"{NURSE} · Hjemmesygeplejerske, {municipality}")
    assert await nurse.evaluate(NO_SIDEWAYS_SCROLL_JS), "the nurse's phone scrolls sideways"
    assert await axe_violations(nurse) == []

    # The GP removes the nurse; the call goes on between the GP and the patient.
    in_call = gp.get_by_test_id("participants")
    await in_call.locator('[data-role="staff"]').get_by_test_id("remove-participant").click()
    await expect(nurse.get_by_test_id("end")).to_be_visible()
    # Not "contact the clinic" alone: which clinic, and its number.
    contact = nurse.get_by_test_id("end").get_by_test_id("clinic-contact")
    await expect(contact).to_have_text("Ring til Lægehuset Demo på +45 70 20 30 40")
    for page in (gp, patient):
        await expect(page.get_by_test_id("remote-video")).to_have_count(1)
    await nurse.goto(invite_url)
    await expect(nurse.locator("h1")).to_contain_text("trukket tilbage")

    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0126")
    for context in (gp_context, nurse_context, patient_context):
        await context.close()
