"""The waiting room as GPs and patients use it, in real Chromium: arrival alerts, messages,
transfer, hold and re-admit, removal, a closed tab disappearing, the wait limit, and in the
call: chat, quality badge, and a phone-continued consultation billed 0201."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from server.store import keys
from tests.support.browser import (
    end_consultation,
    gp_login,
    launch,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

# Test-side instrumentation: count chimes (oscillators) and desktop notifications.
COUNT_ALERTS = """
window.__oscillators = 0;
window.__notifications = [];
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__oscillators += 1;
  return createOscillator.call(this);
};
const NativeNotification = window.Notification;
window.Notification = function (title, options) {
  window.__notifications.push(title);
  return new NativeNotification(title, options);
};
window.Notification.requestPermission = () => NativeNotification.requestPermission();
Object.defineProperty(window.Notification, "permission", {
  get: () => NativeNotification.permission,
});
"""


async def console(browser: Browser, stack: Stack, username: str, password: str) -> Page:
    context = await media_context(browser, stack.urls[0])
    await context.grant_permissions(["notifications"], origin=stack.urls[0])
    await context.add_init_script(COUNT_ALERTS)
    page = await context.new_page()
    await gp_login(page, stack.urls[0], username, password)
    return page


async def waiting_patient(browser: Browser, stack: Stack, clinic_id: str, name: str) -> Page:
    context = await media_context(browser, stack.urls[0])
    page = await context.new_page()
    await patient_join(page, await stack.new_patient_url(stack.urls[0], clinic_id), name)
    await expect(page.get_by_test_id("queue-position")).to_contain_text("Du er")
    return page


def card(gp: Page, name: str) -> Any:
    return gp.locator(".queue-entry", has_text=name)


async def close_all(*pages: Page) -> None:
    contexts: set[BrowserContext] = {page.context for page in pages}
    for context in contexts:
        await context.close()


async def test_arrival_alerts_message_and_removal(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    await gp.get_by_text("Besked når en patient kommer").click()
    await gp.get_by_test_id("alert-desktop").check()
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Alma Alarm")

    await expect(card(gp, "Alma Alarm")).to_be_visible()
    await expect(gp.get_by_test_id("arrival-live")).to_contain_text("Alma Alarm venter")
    assert (await gp.title()).startswith("(")
    assert await gp.evaluate("window.__oscillators") >= 2, "no arrival chime"
    assert any("Alma Alarm" in n for n in await gp.evaluate("window.__notifications"))
    await expect(patient.get_by_test_id("queue-eta")).to_contain_text("ventetid")

    # A ready-made message, then a free text, both shown on the patient's waiting screen.
    entry = card(gp, "Alma Alarm")
    await entry.get_by_test_id("message").click()
    await entry.get_by_test_id("message-preset").select_option(index=1)
    await entry.get_by_test_id("message-send").click()
    await expect(patient.get_by_test_id("clinic-messages")).to_contain_text("5 minutter")
    # The GP is told it went, and the card keeps a trace of what the patient was told.
    await expect(gp.get_by_test_id("arrival-live")).to_have_text(
        "Beskeden til Alma Alarm er sendt."
    )
    await expect(entry.get_by_test_id("last-message")).to_contain_text("5 minutter")
    await expect(entry.get_by_test_id("last-message")).to_contain_text("Besked sendt kl.")
    await entry.get_by_test_id("message").click()
    await entry.get_by_test_id("message-text").fill("Tag dit blodtryk imens")
    await entry.get_by_test_id("message-send").click()
    await expect(patient.get_by_test_id("clinic-messages")).to_contain_text("blodtryk")
    await expect(entry.get_by_test_id("last-message")).to_contain_text("Tag dit blodtryk imens")

    await entry.get_by_test_id("remove").click()
    await entry.get_by_test_id("remove-text").fill("Vi ringer til dig i stedet")
    await entry.get_by_test_id("remove-send").click()
    await expect(patient.get_by_test_id("end")).to_contain_text("Vi ringer til dig i stedet")
    # Not a dead end: the clinic to call, by name and number.
    contact = patient.get_by_test_id("end").get_by_test_id("clinic-contact")
    await expect(contact).to_have_text("Ring til Lægehuset Demo på +45 70 20 30 40")
    await expect(card(gp, "Alma Alarm")).to_have_count(0)
    await close_all(gp, patient)


async def test_transfer_to_a_colleague(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    colleague_user, colleague_password = await stack.add_gp(demo["clinic_id"], "Dr. Bente Berg")
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    colleague = await console(browser, stack, colleague_user, colleague_password)
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Tove Transfer")

    entry = card(gp, "Tove Transfer")
    await entry.get_by_test_id("transfer").click()
    await entry.get_by_test_id("transfer-to").select_option(label="Dr. Bente Berg")
    await entry.get_by_test_id("transfer-send").click()
    await expect(card(colleague, "Tove Transfer")).to_contain_text("Hos Dr. Bente Berg")

    await colleague.get_by_test_id("view-mine").check()
    await expect(card(colleague, "Tove Transfer")).to_be_visible()
    await gp.get_by_test_id("view-mine").check()
    await expect(card(gp, "Tove Transfer")).to_have_count(0)
    await gp.get_by_test_id("view-all").check()
    await expect(card(gp, "Tove Transfer")).to_be_visible()

    await patient.get_by_test_id("leave").click()
    await close_all(gp, colleague, patient)


async def test_hold_returns_the_patient_to_the_front_and_readmit_works(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Hans Hold")
    await card(gp, "Hans Hold").get_by_test_id("admit").click()
    await remote_media(patient)

    await gp.get_by_test_id("hold").click()
    await expect(patient.get_by_test_id("held-note")).to_be_visible()
    await expect(patient.get_by_test_id("queue-position")).to_contain_text("næste")
    await expect(card(gp, "Hans Hold")).to_be_visible()

    await card(gp, "Hans Hold").get_by_test_id("admit").click()
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await close_all(gp, patient)


async def test_chat_quality_and_a_phone_mark_the_telemetry_contradicts(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Carl Chat")
    await card(gp, "Carl Chat").get_by_test_id("admit").click()
    await remote_media(gp)

    await gp.get_by_test_id("chat").click()
    await gp.get_by_test_id("chat-input").fill("Kan du høre mig?")
    await gp.get_by_test_id("chat-send").click()
    await expect(patient.get_by_test_id("chat-log")).to_contain_text("Kan du høre mig?")
    await patient.get_by_test_id("chat-input").fill("Ja")
    await patient.get_by_test_id("chat-send").click()
    await expect(gp.get_by_test_id("chat-log")).to_contain_text("Ja")

    badge = gp.get_by_test_id("quality")
    await expect(badge).to_be_visible()
    assert await badge.get_attribute("data-quality") in ("good", "fair", "poor")

    await end_consultation(gp, continued_by_phone=True)
    # The video worked (media flowed, nothing failed), so the telemetry does not support
    # "video failed, continued by phone": the GP gets the code they can defend, 0125.
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await expect(patient.get_by_test_id("end")).to_be_visible()
    # The chat was kept only for the call.
    assert await patient.get_by_test_id("chat-log").locator("li").count() == 0
    await close_all(gp, patient)


async def test_a_closed_tab_disappears_from_the_gp_list(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Lone Lukket")
    await expect(card(gp, "Lone Lukket")).to_have_attribute("data-connected", "true")
    await patient.context.close()
    await expect(card(gp, "Lone Lukket")).to_have_attribute("data-connected", "false")
    # The stack's grace is 3 s (production: 50 s); the sweep runs every 5 s.
    await expect(card(gp, "Lone Lukket")).to_have_count(0, timeout=20_000)
    await close_all(gp)


async def test_past_the_wait_limit_the_patient_gets_the_phone_number(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Vera Venter")
    await expect(patient.get_by_test_id("wait-limit")).to_be_hidden()
    # As if she had been waiting for 20 minutes (the demo clinic's limit is 15).
    async with stack.client() as redis:
        ids = await redis.zrange(keys.clinic_queue(demo["clinic_id"]), 0, -1)
        for consultation_id in ids:
            if (
                await redis.hget(keys.consultation(consultation_id), "patient_name")
                == "Vera Venter"
            ):
                past = time.time() - 20 * 60
                await redis.hset(
                    keys.consultation(consultation_id),
                    mapping={"waiting_since": str(past), "scheduled_start": str(past)},
                )
    await patient.reload()
    await expect(patient.get_by_test_id("wait-limit")).to_be_visible()
    await expect(patient.get_by_test_id("wait-limit")).to_contain_text("+45 70 20 30 40")
    # The GP's card for her has turned amber: past the clinic's 10-minute alert limit.
    gp = await console(browser, stack, demo["gp"]["username"], demo["gp"]["password"])
    await expect(card(gp, "Vera Venter")).to_have_attribute("data-late", "true")
    await expect(card(gp, "Vera Venter")).to_contain_text("Har ventet 20 min.")
    await patient.get_by_test_id("leave").click()
    await close_all(patient, gp)


REMOTE_SIZE_IS = """(size) => { const v = document.querySelector('[data-testid="remote-video"]');
                             return Boolean(v) && `${v.videoWidth}x${v.videoHeight}` === size; }"""


async def test_the_gp_shares_the_screen_and_stops_again(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    """Chromium's fake screen is 1280x720 and its fake camera 640x480, so the patient's
    remote video size shows which one the GP is sending."""
    patient = await waiting_patient(browser, stack, demo["clinic_id"], "Sofie Skærm")
    async with async_playwright() as playwright:
        # A browser whose screen picker answers by itself, as a GP's click would.
        picker = await launch(playwright, "--use-fake-ui-for-media-stream")
        gp = await console(picker, stack, demo["gp"]["username"], demo["gp"]["password"])
        await card(gp, "Sofie Skærm").get_by_test_id("admit").click()
        await remote_media(patient)
        await patient.wait_for_function(REMOTE_SIZE_IS, arg="640x480")

        await gp.get_by_test_id("share-screen").click()
        await expect(gp.get_by_test_id("share-screen")).to_have_attribute("aria-pressed", "true")
        await patient.wait_for_function(REMOTE_SIZE_IS, arg="1280x720", timeout=15_000)
        media = await remote_media(patient)
        assert media["framesAfter"] > media["framesBefore"]

        await gp.get_by_test_id("share-screen").click()
        await patient.wait_for_function(REMOTE_SIZE_IS, arg="640x480", timeout=15_000)
        await end_consultation(gp)
        await expect(patient.get_by_test_id("end")).to_be_visible()
        await picker.close()
    await close_all(patient)
