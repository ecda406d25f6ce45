"""The call screen's geometry in real Chromium, with media flowing: at a small and a large
phone, a tablet held upright and a laptop, and inside the LPS simulator's frame; for the
patient, the GP and a three-party call. Every control is inside the viewport and nothing
covers it; the remote video takes at least a quarter of the screen; the own picture covers
no control, name or drawer; the chat's input and send button stay in view with an
on-screen keyboard up; the in-call screens meet WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Frame, Page, expect

from tests.e2e.conftest import Lps
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_call import assert_media_flows
from tests.support.browser import (
    all_remote_media,
    end_consultation,
    gp_login,
    is_topmost,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SIZES = [(360, 640), (390, 844), (768, 1024), (1366, 768)]
PHONES = [(w, h) for w, h in SIZES if w < 600]
NURSE = "Sara Sygeplejerske"
# What an on-screen keyboard leaves of a phone's height (about 40 % goes to the keyboard).
KEYBOARD_LEAVES = 0.6

LAYOUT_JS = """
() => {
  const problems = [];
  const [vw, vh] = [innerWidth, innerHeight];
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => Boolean(el) && el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const name = (el) => el.dataset?.testid || el.id || el.getAttribute("class") || el.tagName;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const inside = (r) => r.left >= -0.5 && r.top >= -0.5
    && r.right <= vw + 0.5 && r.bottom <= vh + 0.5;
  const coveredBy = (el) => {
    const r = box(el);
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit && el.contains(hit) ? null : hit ? name(hit) : "nothing (off screen)";
  };
  const call = document.getElementById("call");
  const whole = box(call);
  if (call.hidden || Math.abs(whole.top) > 1 || Math.abs(whole.bottom - vh) > 1
      || Math.abs(whole.width - vw) > 1) {
    problems.push(`the call does not fill the ${vw}x${vh} viewport`);
  }
  const bar = [...call.querySelectorAll('[role="toolbar"] button')].filter(shown);
  const own = [...call.querySelectorAll(".self-view button, .self-show")].filter(shown);
  const controls = [...bar, ...own];
  for (const testid of ["mute", "camera", "chat", "hangup"]) {
    if (!bar.some((el) => el.dataset.testid === testid)) problems.push(`no ${testid} in the bar`);
  }
  for (const el of controls) {
    const r = box(el);
    if (r.width < 24 || r.height < 24) problems.push(`${name(el)} is only ${r.width}x${r.height}`);
    if (!inside(r)) problems.push(`${name(el)} is outside the viewport`);
    const by = coveredBy(el);
    if (by) problems.push(`${name(el)} is covered by ${by}`);
  }
  const labels = [...call.querySelectorAll(".tile-label")].filter(shown);
  for (const label of labels) {
    const text = label.querySelector(".peer-name");
    const cut = (el) => el.scrollWidth > el.clientWidth + 1;
    if (cut(text) && !text.title) problems.push("a cut name has no title");
    if (cut(label)) problems.push(`a label overflows: ${label.textContent}`);
    if (!inside(box(label))) problems.push(`a label is outside the viewport: ${label.textContent}`);
    if (overlap(box(label), box(label.closest(".tile").querySelector("video")))) {
      problems.push(`a label covers its video: ${label.textContent}`);
    }
    const by = coveredBy(text);
    if (by) problems.push(`a name is covered by ${by}`);
  }
  const drawers = [...call.querySelectorAll(".drawer")].filter(shown);
  const self = call.querySelector('[data-testid="self-view"]');
  if (shown(self)) {
    const picture = box(self);
    if (!inside(picture)) problems.push("the own picture is outside the viewport");
    if (picture.width * picture.height > (vw * vh) / 6) problems.push("own picture not small");
    for (const el of [...bar, ...labels, ...drawers]) {
      if (overlap(picture, box(el))) problems.push(`the own picture covers ${name(el)}`);
    }
  }
  const videos = [...call.querySelectorAll('[data-testid="remote-video"]')];
  const shares = videos.map((video) => {
    const r = box(video);
    return (Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0))
      * Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0))) / (vw * vh);
  });
  return { problems, shares, drawers: drawers.map(name) };
}
"""


async def assert_layout(page: Page | Frame, where: str, videos: int) -> dict[str, Any]:
    """The geometry rules hold; with no drawer over the stage on a phone, the remote videos
    together take at least a quarter of the screen and each at least its share of that."""
    layout = await page.evaluate(LAYOUT_JS)
    assert layout["problems"] == [], f"{where}: {layout['problems']}"
    assert len(layout["shares"]) == videos, where
    return dict(layout)


async def assert_videos_large(page: Page | Frame, where: str, videos: int) -> None:
    layout = await assert_layout(page, where, videos)
    shares = layout["shares"]
    assert sum(shares) >= 0.25, f"{where}: remote video covers {shares} of the screen"
    assert min(shares) >= 0.25 / (2 * videos), f"{where}: a face is too small: {shares}"


async def resize(page: Page, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    await page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )


async def close_drawers(page: Page) -> None:
    for testid in ("chat", "call-panel-toggle"):
        toggle = page.get_by_test_id(testid)
        if await toggle.count() and await toggle.get_attribute("aria-expanded") == "true":
            await toggle.click()


async def assert_chat_fits_the_keyboard(page: Page, width: int, height: int, text: str) -> None:
    """On a phone the chat opens with an on-screen keyboard up (the viewport shrinks to
    what the keyboard leaves): its input and send button, and the bar, stay usable."""
    await close_drawers(page)
    await page.get_by_test_id("chat").click()
    await resize(page, width, int(height * KEYBOARD_LEAVES))
    for testid in ("chat-input", "chat-send"):
        await expect(page.get_by_test_id(testid)).to_be_in_viewport(ratio=1)
        assert await is_topmost(page, testid), f"{testid} is covered at {width}x{height}"
    await assert_layout(page, f"chat with keyboard {width}x{height}", await remote_count(page))
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()
    await expect(page.get_by_test_id("chat-log")).to_contain_text(text)
    await page.get_by_test_id("chat").click()
    await resize(page, width, height)


async def remote_count(page: Page) -> int:
    return await page.get_by_test_id("remote-video").count()


async def phone_context(browser: Browser, origin: str) -> BrowserContext:
    # bypass_csp lets the test inject axe; the pages' own CSP forbids any foreign script.
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, bypass_csp=True
    )
    await context.grant_permissions(["camera", "microphone"], origin=origin)
    return context


async def laptop_context(browser: Browser, origin: str) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    await context.grant_permissions(["camera", "microphone"], origin=origin)
    return context


async def gp_and_patient(
    browser: Browser, stack: Stack, demo: dict[str, Any], name: str
) -> tuple[Page, Page]:
    base = stack.urls[0]
    url = await stack.new_patient_url(base, demo["clinic_id"])
    gp = await (await laptop_context(browser, base)).new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    patient = await (await phone_context(browser, base)).new_page()
    await patient_join(patient, url, name)
    await gp.locator(".queue-entry", has_text=name).get_by_test_id("admit").click()
    assert_media_flows(await remote_media(gp))
    assert_media_flows(await remote_media(patient))
    return gp, patient


async def test_the_call_fits_every_screen_for_the_patient_and_the_gp(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp, patient = await gp_and_patient(browser, stack, demo, "Karen Jensen")
    for width, height in SIZES:
        for role, page in (("patient", patient), ("gp", gp)):
            await resize(page, width, height)
            await close_drawers(page)
            await assert_videos_large(page, f"{role} {width}x{height}", 1)
        if (width, height) in PHONES:
            await assert_chat_fits_the_keyboard(patient, width, height, f"Hej fra {width}")
            await expect(gp.get_by_test_id("chat-log")).to_contain_text(f"Hej fra {width}")
            await close_drawers(gp)
            await gp.get_by_test_id("call-panel-toggle").click()  # the GP's panel, as a drawer
            await expect(gp.get_by_test_id("hold")).to_be_visible()
            await assert_layout(gp, f"gp panel {width}x{height}", 1)
            await close_drawers(gp)
    assert_media_flows(await remote_media(patient))
    assert await axe_violations(gp) == []

    # The own picture moves round the corners, never over a control or a name, and hides.
    await resize(patient, 360, 640)
    call = patient.locator("#call")
    for corner in ("br", "bl", "tl", "tr"):
        await patient.get_by_test_id("self-move").click()
        await expect(call).to_have_attribute("data-self-corner", corner)
        await assert_layout(patient, f"own picture in {corner}", 1)
    # A drag lands it in the corner nearest to where it is let go.
    own = await patient.get_by_test_id("self-view").bounding_box()
    assert own is not None
    await patient.mouse.move(own["x"] + own["width"] / 2, own["y"] + own["height"] - 8)
    await patient.mouse.down()
    await patient.mouse.move(40, 500, steps=8)
    await patient.mouse.up()
    await expect(call).to_have_attribute("data-self-corner", "bl")
    await assert_layout(patient, "own picture dragged", 1)
    await patient.get_by_test_id("self-hide").click()
    await expect(patient.get_by_test_id("self-view")).to_be_hidden()
    await assert_layout(patient, "own picture hidden", 1)
    await patient.get_by_test_id("self-show").click()
    await expect(patient.get_by_test_id("self-view")).to_be_visible()
    assert await axe_violations(patient) == []

    # Camera off: the GP sees the patient's initials and name, not a black box. Muted: an icon.
    tile = gp.locator('.tile[data-role="patient"]')
    await patient.get_by_test_id("camera").click()
    await expect(tile).to_have_attribute("data-camera", "off")
    await expect(tile.locator(".initials")).to_have_text("KJ")
    await expect(tile.locator(".avatar")).to_be_visible()
    await expect(patient.get_by_test_id("self-view")).to_have_attribute("data-camera", "off")
    await patient.get_by_test_id("mute").click()
    await expect(tile.locator(".muted-flag")).to_be_visible()
    await expect(gp.get_by_test_id("participants")).to_contain_text("Mikrofonen er slået fra")
    await patient.get_by_test_id("camera").click()
    await patient.get_by_test_id("mute").click()
    await expect(tile).to_have_attribute("data-camera", "on")
    await expect(tile.locator(".muted-flag")).to_be_hidden()

    # Ending the consultation asks first; staying keeps the call going.
    await gp.get_by_test_id("hangup").click()
    dialog = gp.get_by_test_id("end-dialog")
    await expect(dialog).to_be_visible()
    assert await is_topmost(gp, "confirm-end")
    assert await axe_violations(gp) == []
    await gp.get_by_test_id("cancel-end").click()
    await expect(dialog).to_be_hidden()
    assert_media_flows(await remote_media(gp))
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await gp.context.close()
    await patient.context.close()


async def test_three_parties_each_readable_and_a_municipality_invited_during_the_call(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    username, password, municipality = await stack.add_staff(NURSE, "Hjemmesygeplejerske")
    gp, patient = await gp_and_patient(browser, stack, demo, "Karen Jensen")

    # The GP invites the municipality from the call's panel, without leaving the call.
    panel = gp.get_by_test_id("call-panel")
    await expect(panel).to_be_visible()
    await panel.get_by_test_id("invite-organisation").select_option(label=municipality)
    await panel.get_by_test_id("invite-send").click()
    invite_url = await panel.get_by_test_id("invite-link").input_value()
    assert "/i/" in invite_url

    nurse = await (await phone_context(browser, stack.urls[0])).new_page()
    await nurse.goto(invite_url)
    await nurse.get_by_test_id("username").fill(username)
    await nurse.get_by_test_id("password").fill(password)
    await nurse.get_by_test_id("login").click()
    await nurse.get_by_test_id("join").click()
    waiting = panel.get_by_test_id("lobby-list").locator("li", has_text=NURSE)
    await waiting.get_by_test_id("admit-professional").click()

    pages = {"gp": gp, "patient": patient, "nurse": nurse}
    for page in pages.values():
        for media in await all_remote_media(page, 2):
            assert_media_flows(media)
    await expect(panel.get_by_test_id("participants")).to_contain_text(NURSE)
    await expect(patient.locator('.tile[data-role="staff"]')).to_contain_text(
        f"{NURSE} · Hjemmesygeplejerske, {municipality}"
    )
    for width, height in SIZES:
        for role, page in pages.items():
            await resize(page, width, height)
            await close_drawers(page)
            await assert_videos_large(page, f"{role} in three {width}x{height}", 2)
    await resize(nurse, 360, 640)
    await assert_chat_fits_the_keyboard(nurse, 360, 640, "Jeg er her")
    assert await axe_violations(nurse) == []

    # The patient's leave needs no confirmation; the GP and the nurse go on.
    await patient.get_by_test_id("hangup").click()
    await expect(patient.get_by_test_id("end")).to_be_visible()
    for page in (gp, nurse):
        await expect(page.get_by_test_id("remote-video")).to_have_count(1)
    await end_consultation(gp)
    await expect(nurse.get_by_test_id("end")).to_be_visible()
    for page in pages.values():
        await page.context.close()


async def test_the_gp_view_fits_the_lps_frame(browser: Browser, stack: Stack, lps: Lps) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    await context.grant_permissions(["camera", "microphone"], origin=lps.url)
    host = await context.new_page()
    await host.goto(f"{lps.url}/")
    await host.get_by_test_id("patient-name").fill("Karen Jensen")
    await host.get_by_test_id("book").click()
    await host.wait_for_url(re.compile(r"/consultations/\w+$"))
    patient_url = await host.get_by_test_id("patient-link").input_value()
    await host.get_by_test_id("open-video").click()

    patient = await (await phone_context(browser, stack.urls[0])).new_page()
    await patient_join(patient, patient_url, "Karen Jensen")
    view = host.frame_locator('[data-testid="gp-view"]')
    await view.locator(".queue-entry", has_text="Karen Jensen").get_by_test_id("admit").click()
    frame = next(f for f in host.frames if "/console" in f.url)
    assert_media_flows(await remote_media(frame))
    for width, height in ((1366, 768), (768, 1024)):
        await resize(host, width, height)
        await assert_videos_large(frame, f"LPS frame in {width}x{height}", 1)
        await frame.get_by_test_id("call-panel-toggle").click()
        await assert_layout(frame, f"LPS frame with the panel, {width}x{height}", 1)
        await frame.get_by_test_id("call-panel-toggle").click()
    await end_consultation(frame)
    await expect(view.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    await context.close()
    await patient.context.close()
