"""The GP can make a call audio only (a poor line the GP can hear, or a patient who prefers
it): both sides stop sending video and say why; video comes back when the GP asks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SENDING_VIDEO = """
() => [...document.querySelectorAll('#call-self')].some(
  (v) => v.srcObject && v.srcObject.getVideoTracks().some((t) => t.enabled))
"""


async def test_the_gp_chooses_audio_only_and_video_again(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    patient_context = await media_context(browser, base)
    gp, patient = await gp_context.new_page(), await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), "Kun Lyd")
    await gp.locator(".queue-entry", has_text="Kun Lyd").get_by_test_id("admit").click()
    for page in (gp, patient):
        await remote_media(page)

    await gp.get_by_test_id("audio-only").click()

    for page in (gp, patient):
        notice = page.get_by_test_id("audio-only-notice")
        await expect(notice).to_have_text("Kun lyd: lægen har slået video fra.")
        await page.wait_for_function(f"() => !({SENDING_VIDEO})()")
        assert (await remote_media(page))["audioPeak"] > 0
    await expect(gp.get_by_test_id("audio-only")).to_have_attribute("aria-pressed", "true")

    await gp.get_by_test_id("audio-only").click()

    for page in (gp, patient):
        await expect(page.get_by_test_id("audio-only-notice")).to_be_hidden()
        await page.wait_for_function(SENDING_VIDEO)
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
    await end_consultation(gp)
    await expect(patient.get_by_test_id("end")).to_be_visible()
    for context in (gp_context, patient_context):
        await context.close()
