"""A patient and a GP hold a real call in Chromium; media must flow both ways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack


def assert_media_flows(media: dict[str, Any]) -> None:
    assert media["width"] > 0 and media["height"] > 0
    assert media["framesAfter"] > media["framesBefore"], "remote video frames did not advance"
    assert media["audioPeak"] > 0, "no inbound audio energy"


async def hold_call(browser: Browser, gp_base: str, patient_url: str, demo: dict[str, Any]) -> None:
    gp_context = await media_context(browser, gp_base)
    patient_base = patient_url.split("/j/")[0]
    patient_context = await media_context(browser, patient_base)
    gp: Page = await gp_context.new_page()
    patient: Page = await patient_context.new_page()

    await gp_login(gp, gp_base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, patient_url, "Karen Jensen")
    await expect(patient.get_by_test_id("queue-position")).to_contain_text("næste")

    entry = gp.locator(".queue-entry", has_text="Karen Jensen")
    await expect(entry).to_be_visible()
    await entry.get_by_test_id("admit").click()

    assert_media_flows(await remote_media(gp))
    assert_media_flows(await remote_media(patient))

    # The patient mutes; the GP is told.
    await patient.get_by_test_id("mute").click()
    await expect(gp.locator(".tile .muted-flag")).to_be_visible()

    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await expect(patient.get_by_test_id("end")).to_contain_text("slut")
    await gp_context.close()
    await patient_context.close()


@pytest.mark.e2e
async def test_call_on_one_instance(browser: Browser, stack: Stack, demo: dict[str, Any]) -> None:
    base = stack.urls[0]
    url = await stack.new_patient_url(base, demo["clinic_id"])
    await hold_call(browser, base, url, demo)


@pytest.mark.e2e
async def test_call_across_two_instances(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    """The GP is on instance A, the patient on instance B; they share only Redis."""
    url = await stack.new_patient_url(stack.urls[1], demo["clinic_id"])
    await hold_call(browser, stack.urls[0], url, demo)
