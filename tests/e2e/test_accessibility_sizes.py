"""Every page and state meets WCAG 2.1 AA (axe-core) and does not scroll sideways, on a
360×640 phone and a 1366×768 laptop, in-call screens included, with media flowing.

What each test walks through, at both sizes:
- public and error pages: the front page, login (and its error), a patient link that is
  unknown, not yet open, revoked or for a consultation that is over, an unknown drop-in or
  invitation link, 404, 403 (a GP on an admin page) and the error page of other statuses
  (405, which has the 500-style text);
- one consultation from start to end: the patient's join page with its device check and
  with a missing name, the waiting room with a message from the clinic, the GP's console
  with the queue and the message's trace, the call for both (chat drawer, camera off, the
  GP's panel, the note-taker's consent question), a municipality nurse invited during the
  call (the invitation's login, the lobby, waiting, in the call), the end dialog, the
  ended screens of all three, and a second patient removed from the queue;
- staff, organisation and admin pages: clinic settings, note review, the note-taker pilot,
  the honorarium statement, the directory and a clinic's page, the organisation page and its
  shown-once key, and the admin's organisations, calls, budgets, programmes (list and one),
  and subscriptions;
- the GP's view inside the LPS simulator's frame, at the laptop size only (an LPS is a
  desktop program): the queue, the call, and the consultation once it is over.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Frame, Page, ViewportSize, expect

from server.store.consultations import Kind, create_consultation
from server.store.notes import Section, save_draft
from tests.e2e.conftest import Lps
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_call import assert_media_flows
from tests.support.browser import end_consultation, own_camera_shows, patient_join, remote_media
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SIZES = {
    "phone": ViewportSize(width=360, height=640),
    "laptop": ViewportSize(width=1366, height=768),
}
NO_SIDEWAYS_JS = "() => document.documentElement.scrollWidth <= innerWidth"


async def context_at(browser: Browser, size: str, origin: str) -> BrowserContext:
    # bypass_csp lets the test inject axe; the pages' own CSP forbids any foreign script.
    phone = size == "phone"
    context = await browser.new_context(
        viewport=SIZES[size], is_mobile=phone, has_touch=phone, bypass_csp=True
    )
    await context.grant_permissions(["camera", "microphone"], origin=origin)
    return context


async def assert_accessible(page: Page | Frame, where: str) -> None:
    assert await axe_violations(page) == [], where
    assert await page.evaluate(NO_SIDEWAYS_JS), f"{where} scrolls sideways"


async def log_in(page: Page, base: str, account: dict[str, str], goal: str) -> None:
    await page.goto(f"{base}/login?next={goal}")
    await page.get_by_test_id("username").fill(account["username"])
    await page.get_by_test_id("password").fill(account["password"])
    await page.get_by_test_id("login").click()
    await page.wait_for_url(f"{base}{goal}")


async def visit(page: Page, url: str, status: int, where: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == status, where
    await assert_accessible(page, where)


@pytest.mark.parametrize("size", SIZES)
async def test_public_and_error_pages(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    base = stack.urls[0]
    page = await (await context_at(browser, size, base)).new_page()
    await visit(page, f"{base}/", 200, "front page")
    await visit(page, f"{base}/login", 200, "login")
    await page.get_by_test_id("username").fill("nobody")
    await page.get_by_test_id("password").fill("wrong password")
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    await assert_accessible(page, "login with an error")

    await visit(page, f"{base}/j/{'x' * 43}", 404, "unknown patient link")
    tomorrow = await stack.new_patient_url(base, demo["clinic_id"], starts_in=26 * 3600)
    await visit(page, tomorrow, 403, "link not open yet")
    old = await stack.new_patient_url(base, demo["clinic_id"])
    await stack.reissue_link(base, old)
    await visit(page, old, 410, "revoked link")
    await visit(page, f"{base}/d/{'x' * 43}", 404, "unknown drop-in link")
    await visit(page, f"{base}/i/{'x' * 43}", 404, "unknown invitation")
    await visit(page, f"{base}/no/such/page", 404, "404")
    await visit(page, f"{base}/logout", 405, "other error (405)")
    await expect(page.get_by_role("link", name="forsiden")).to_be_visible()

    await log_in(page, base, demo["gp"], "/console")
    await visit(page, f"{base}/admin", 403, "403")
    await page.context.close()


@pytest.mark.parametrize("size", SIZES)
async def test_a_consultation_at_every_step(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    base = stack.urls[0]
    patient_url = await stack.new_patient_url(base, demo["clinic_id"])
    patient = await (await context_at(browser, size, base)).new_page()
    gp = await (await context_at(browser, size, base)).new_page()
    nurse = await (await context_at(browser, size, base)).new_page()

    await patient.goto(patient_url)
    await own_camera_shows(patient)
    await assert_accessible(patient, "join page with the device check")
    await patient.get_by_test_id("join").click()
    await expect(patient.get_by_test_id("name-error")).to_be_visible()
    await assert_accessible(patient, "join page with a missing name")
    await patient.get_by_test_id("name").fill("Karen Adgang")
    await patient.get_by_test_id("accept-terms").check()
    await patient.get_by_test_id("join").click()
    await expect(patient.get_by_test_id("queue-position")).to_contain_text("Du er")

    await log_in(gp, base, demo["gp"], "/console")
    entry = gp.locator(".queue-entry", has_text="Karen Adgang")
    await entry.get_by_test_id("message").click()
    await entry.get_by_test_id("message-preset").select_option(index=1)
    await entry.get_by_test_id("message-send").click()
    await expect(entry.get_by_test_id("last-message")).to_be_visible()
    await assert_accessible(gp, "console with the queue and a sent message")
    await expect(patient.get_by_test_id("clinic-messages")).not_to_be_empty()
    await assert_accessible(patient, "waiting room with a message")

    await entry.get_by_test_id("admit").click()
    assert_media_flows(await remote_media(gp))
    assert_media_flows(await remote_media(patient))
    await assert_accessible(patient, "patient in the call")
    await patient.get_by_test_id("chat").click()
    await expect(patient.get_by_test_id("chat-input")).to_be_visible()
    await assert_accessible(patient, "patient's chat")
    await patient.get_by_test_id("chat").click()
    await patient.get_by_test_id("camera").click()
    await expect(gp.locator('.tile[data-role="patient"]')).to_have_attribute("data-camera", "off")
    await assert_accessible(gp, "GP in the call, the patient's camera off")
    await patient.get_by_test_id("camera").click()

    toggle = gp.get_by_test_id("call-panel-toggle")
    if await toggle.get_attribute("aria-expanded") != "true":  # a drawer on a phone
        await toggle.click()
    panel = gp.get_by_test_id("call-panel")
    await expect(panel).to_be_visible()
    await assert_accessible(gp, "GP in the call with the panel")
    await panel.get_by_test_id("notetaker-offer").click()
    await expect(patient.get_by_test_id("notetaker-consent")).to_be_visible()
    await assert_accessible(patient, "the note-taker's consent question")
    await patient.get_by_test_id("notetaker-decline").click()
    await expect(patient.get_by_test_id("notetaker-consent")).to_be_hidden()

    await panel.get_by_test_id("invite-organisation").select_option(label="Københavns Kommune")
    await panel.get_by_test_id("invite-send").click()
    invite_url = await panel.get_by_test_id("invite-link").input_value()
    await assert_accessible(gp, "GP's panel with an invitation link")
    await nurse.goto(invite_url)
    await expect(nurse.get_by_test_id("login")).to_be_visible()
    await assert_accessible(nurse, "the invitation's login")
    await nurse.get_by_test_id("username").fill(demo["staff"]["username"])
    await nurse.get_by_test_id("password").fill(demo["staff"]["password"])
    await nurse.get_by_test_id("login").click()
    await own_camera_shows(nurse)
    await assert_accessible(nurse, "professional's lobby")
    await nurse.get_by_test_id("join").click()
    await expect(nurse.get_by_test_id("pro-waiting")).to_be_visible()
    await assert_accessible(nurse, "professional waiting")
    await expect(panel).to_be_visible()
    waiting = panel.get_by_test_id("lobby-list").locator("li", has_text="Sara Sygeplejerske")
    await waiting.get_by_test_id("admit-professional").click()
    assert_media_flows(await remote_media(nurse))
    await assert_accessible(nurse, "professional in the call")

    await gp.get_by_test_id("hangup").click()
    await expect(gp.get_by_test_id("end-dialog")).to_be_visible()
    await assert_accessible(gp, "the end dialog")
    await gp.get_by_test_id("cancel-end").click()
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0126")
    await assert_accessible(gp, "GP's ended screen")
    for who, page in (("patient", patient), ("nurse", nurse)):
        await expect(page.get_by_test_id("end")).to_be_visible()
        await assert_accessible(page, f"{who}'s ended screen")
    await visit(patient, patient_url, 410, "the link of a consultation that is over")

    await patient.goto(await stack.new_patient_url(base, demo["clinic_id"]))
    await patient.get_by_test_id("name").fill("Ole Fjernet")
    await patient.get_by_test_id("accept-terms").check()
    await patient.get_by_test_id("join").click()
    await gp.goto(f"{base}/console")
    entry = gp.locator(".queue-entry", has_text="Ole Fjernet")
    await entry.get_by_test_id("remove").click()
    await entry.get_by_test_id("remove-send").click()
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await assert_accessible(patient, "removed from the queue")
    for page in (patient, gp, nurse):
        await page.context.close()


@pytest.mark.parametrize("size", SIZES)
async def test_staff_organisation_and_admin_pages(
    browser: Browser, stack: Stack, demo: dict[str, Any], size: str
) -> None:
    base = stack.urls[0]
    async with stack.client() as redis:
        c = await create_consultation(
            redis, demo["clinic_id"], Kind.SCHEDULED, scheduled_start=time.time()
        )
        section = Section("reason", "Kontaktårsag", "Hoste i tre uger.")
        await save_draft(redis, c, [section], engine="", ai_generated=False)

    gp = await (await context_at(browser, size, base)).new_page()
    await log_in(gp, base, demo["gp"], "/console")
    for path, where in (
        ("/clinic/settings", "clinic settings"),
        (f"/console/consultations/{c.id}/note", "note review"),
        ("/pilot/notetaker", "the note-taker pilot"),
        ("/statement", "honorarium statement"),
    ):
        await visit(gp, f"{base}{path}", 200, where)
    await gp.context.close()

    nurse = await (await context_at(browser, size, base)).new_page()
    await log_in(nurse, base, demo["staff"], "/directory")
    await assert_accessible(nurse, "directory")
    await visit(nurse, f"{base}/directory/clinics/{demo['ydernummer']}", 200, "a clinic's page")
    await nurse.context.close()

    org = await (await context_at(browser, size, base)).new_page()
    await log_in(org, base, demo["org_admin"], "/org")
    await assert_accessible(org, "organisation")
    await org.get_by_test_id("key-form").locator("input").first.fill(f"Omsorgssystem {size}")
    await org.get_by_test_id("issue-key").click()
    await expect(org.get_by_test_id("secret")).to_be_visible()
    await assert_accessible(org, "a key shown once")
    await org.context.close()

    admin = await (await context_at(browser, size, base)).new_page()
    await log_in(admin, base, demo["admin"], "/admin")
    await assert_accessible(admin, "admin: organisations")
    for path, where in (
        ("/admin/calls", "admin: calls"),
        ("/admin/budgets", "admin: budgets"),
        ("/admin/programmes", "admin: programmes"),
        ("/admin/subscriptions", "admin: subscriptions"),
    ):
        await visit(admin, f"{base}{path}", 200, where)
    await admin.goto(f"{base}/admin/programmes")
    await admin.locator('a[href^="/admin/programmes/"]').first.click()
    await admin.wait_for_url(f"{base}/admin/programmes/*")
    await assert_accessible(admin, "admin: one programme")
    await admin.context.close()


async def test_the_gp_view_in_the_lps_frame(browser: Browser, stack: Stack, lps: Lps) -> None:
    host_context = await browser.new_context(viewport=SIZES["laptop"], bypass_csp=True)
    await host_context.grant_permissions(["camera", "microphone"], origin=lps.url)
    host = await host_context.new_page()
    await host.goto(f"{lps.url}/")
    await host.get_by_test_id("patient-name").fill("Karen Ramme")
    await host.get_by_test_id("book").click()
    await host.wait_for_url(re.compile(r"/consultations/\w+$"))
    patient_url = await host.get_by_test_id("patient-link").input_value()
    await host.get_by_test_id("open-video").click()
    view = host.frame_locator('[data-testid="gp-view"]')
    await expect(view.get_by_test_id("waiting-list")).to_be_attached()
    frame = next(f for f in host.frames if "/console" in f.url)
    await assert_accessible(frame, "the GP's view in the LPS, nobody waiting")

    patient = await (await context_at(browser, "phone", stack.urls[0])).new_page()
    await patient_join(patient, patient_url, "Karen Ramme")
    await view.locator(".queue-entry", has_text="Karen Ramme").get_by_test_id("admit").click()
    assert_media_flows(await remote_media(frame))
    await assert_accessible(frame, "the GP's view in the LPS, in the call")
    await end_consultation(frame)
    await expect(view.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await assert_accessible(frame, "the GP's view in the LPS, the call over")
    await host.reload()
    await expect(view.get_by_test_id("focus-outcome")).to_be_visible()
    frame = next(f for f in host.frames if "/console" in f.url)
    await assert_accessible(frame, "the GP's view in the LPS of a consultation that is over")
    await host_context.close()
    await patient.context.close()
