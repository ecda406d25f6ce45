"""What a patient meets in a real browser: bad links, refused devices, a second tab, a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    own_camera_shows,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


async def test_unknown_link_explains_itself_in_danish_and_english(
    browser: Browser, stack: Stack
) -> None:
    page = await browser.new_page()
    response = await page.goto(f"{stack.urls[0]}/j/{'x' * 43}")
    assert response is not None and response.status == 404
    await expect(page.get_by_test_id("error")).to_contain_text("Linket findes ikke")
    await page.get_by_test_id("lang-switch").click()
    await expect(page.get_by_test_id("error")).to_contain_text("This link does not exist")
    await page.close()


async def test_revoked_link_is_gone(browser: Browser, stack: Stack, demo: dict[str, Any]) -> None:
    old = await stack.new_patient_url(stack.urls[0], demo["clinic_id"])
    await stack.reissue_link(stack.urls[0], old)
    page = await browser.new_page()
    response = await page.goto(old)
    assert response is not None and response.status == 410
    await expect(page.get_by_test_id("error")).to_contain_text("erstattet")
    await page.close()


async def test_refused_camera_shows_how_to_fix_it(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await browser.new_context()  # no camera/microphone permission granted
    page = await context.new_page()
    await page.goto(await stack.new_patient_url(stack.urls[0], demo["clinic_id"]))
    problem = page.get_by_test_id("media-problem")
    await expect(problem).to_be_visible()
    await expect(problem).to_contain_text("Tillad")
    # The patient can still enter the waiting room; the GP can phone them.
    await page.get_by_test_id("name").fill("Uden Kamera")
    await page.get_by_test_id("accept-terms").check()
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("queue-position")).to_contain_text("næste")
    await context.close()


async def test_device_check_shows_camera_devices_and_a_live_microphone_level(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await media_context(browser, stack.urls[0])
    page = await context.new_page()
    await page.goto(await stack.new_patient_url(stack.urls[0], demo["clinic_id"]))
    await expect(page.get_by_test_id("clinic-intro")).to_contain_text("Lægehuset Demo")
    await expect(page.get_by_test_id("appointment-time")).to_contain_text("kl.")
    await own_camera_shows(page)
    assert await page.get_by_test_id("camera-select").locator("option").count() >= 1
    assert await page.get_by_test_id("mic-select").locator("option").count() >= 1
    await page.get_by_test_id("name").type("Lyd")  # a key press lets the page start audio
    await page.wait_for_function(
        "() => Number(document.getElementById('mic-meter').getAttribute('aria-valuenow')) > 0",
        timeout=10_000,
    )
    await context.close()


async def test_join_needs_name_and_terms(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await media_context(browser, stack.urls[0])
    page = await context.new_page()
    await page.goto(await stack.new_patient_url(stack.urls[0], demo["clinic_id"]))
    await page.get_by_test_id("join").click()
    # The error sits by the field, is read with it, and the field takes focus.
    name, terms = page.get_by_test_id("name"), page.get_by_test_id("accept-terms")
    await expect(page.get_by_test_id("name-error")).to_have_text("Skriv dit navn.")
    await expect(name).to_be_focused()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_have_attribute("aria-describedby", "name-hint name-error")
    await expect(page.get_by_test_id("terms-error")).to_be_visible()
    assert await below(page, "name", "name-error") < 80

    await name.fill("Ib")
    # The error goes as the name is typed, before the next click (not on blur, which
    # moved the controls below it from under the pointer).
    await expect(page.get_by_test_id("name-error")).to_be_hidden()
    await expect(name).to_be_focused()
    await page.get_by_test_id("join").click()
    await expect(name).to_have_attribute("aria-invalid", "false")
    await expect(page.get_by_test_id("terms-error")).to_contain_text("vilkårene")
    await expect(terms).to_be_focused()
    await expect(terms).to_have_attribute("aria-describedby", "terms-error")
    assert await below(page, "accept-terms", "terms-error") < 80
    await expect(page.get_by_test_id("queue-position")).to_be_hidden()

    await terms.check()
    await expect(page.get_by_test_id("terms-error")).to_be_hidden()
    await context.close()


async def below(page: Page, field: str, error: str) -> float:
    """How far below the field its error starts, in CSS pixels."""
    field_box = await page.get_by_test_id(field).bounding_box()
    error_box = await page.get_by_test_id(error).bounding_box()
    assert field_box is not None and error_box is not None
    return error_box["y"] - (field_box["y"] + field_box["height"])


async def test_second_tab_takes_over_and_the_first_is_told(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await media_context(browser, stack.urls[0])
    first = await context.new_page()
    url = await stack.new_patient_url(stack.urls[0], demo["clinic_id"])
    await patient_join(first, url, "To Faner")
    await expect(first.get_by_test_id("queue-position")).to_contain_text("Du er")

    second = await context.new_page()
    await second.goto(url)
    await expect(second.get_by_test_id("queue-position")).to_contain_text("Du er")
    await expect(first.get_by_test_id("end")).to_contain_text("andet vindue")
    # Pressing "continue here" in the old tab takes the seat back.
    await first.get_by_role("button", name="Fortsæt her").click()
    await expect(first.get_by_test_id("queue-position")).to_contain_text("Du er")
    await expect(second.get_by_test_id("end")).to_contain_text("andet vindue")
    await context.close()


async def test_reload_keeps_the_place_in_the_queue(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp_context = await media_context(browser, stack.urls[0])
    gp = await gp_context.new_page()
    await gp_login(gp, stack.urls[0], demo["gp"]["username"], demo["gp"]["password"])
    early = await stack.new_patient_url(stack.urls[0], demo["clinic_id"], starts_in=-600)
    late = await stack.new_patient_url(stack.urls[0], demo["clinic_id"], starts_in=-300)

    first_context = await media_context(browser, stack.urls[0])
    second_context = await media_context(browser, stack.urls[0])
    first = await first_context.new_page()
    second = await second_context.new_page()
    await patient_join(second, late, "Anden Patient")
    await patient_join(first, early, "Første Patient")
    await expect(second.get_by_test_id("queue-position")).to_contain_text("nummer 2")

    await second.reload()
    await expect(second.get_by_test_id("queue-position")).to_contain_text("nummer 2")
    names = gp.locator(".queue-entry strong")
    await expect(names.filter(has_text="Patient")).to_have_count(2)
    order = await names.all_inner_texts()
    assert order.index("Første Patient") < order.index("Anden Patient")
    await expect(gp.locator(".queue-entry", has_text="Anden Patient")).to_have_attribute(
        "data-connected", "true"
    )

    # Clear the queue for the other tests: both leave.
    for page in (first, second):
        await page.get_by_test_id("leave").click()
        await expect(page.get_by_test_id("end")).to_be_visible()
    await expect(names.filter(has_text="Patient")).to_have_count(0)
    for context in (gp_context, first_context, second_context):
        await context.close()


async def test_reload_during_a_call_resumes_it(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp_context = await media_context(browser, stack.urls[0])
    patient_context = await media_context(browser, stack.urls[0])
    gp = await gp_context.new_page()
    patient = await patient_context.new_page()
    await gp_login(gp, stack.urls[0], demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(
        patient, await stack.new_patient_url(stack.urls[0], demo["clinic_id"]), "Genindlæs"
    )
    await gp.locator(".queue-entry", has_text="Genindlæs").get_by_test_id("admit").click()
    await remote_media(patient)

    await patient.reload()
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
        assert media["audioPeak"] > 0
    await end_consultation(gp)
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await gp_context.close()
    await patient_context.close()
