"""What people see when their own connection drops: the waiting room keeps the patient's
place and says it is reconnecting, the GP console says it is offline and admits nobody
until it is back, and the call pages say "reconnecting" and_then_media_is_back.

Every page socket runs through Playwright's WebSocket routing to the real server; cutting
it closes the page's socket and refuses new ones, as a dropped network would.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


class SocketSwitch:
    def __init__(self) -> None:
        self.blocked = False
        self.live: list[WebSocketRoute] = []

    async def attach(self, context: BrowserContext) -> None:
        await context.route_web_socket("**/ws", self.handle)

    async def handle(self, ws: WebSocketRoute) -> None:
        if self.blocked:
            await ws.close()
            return
        ws.connect_to_server()
        self.live.append(ws)

    async def cut(self) -> None:
        self.blocked = True
        for ws in self.live:
            await ws.close()
        self.live.clear()

    def restore(self) -> None:
        self.blocked = False


async def settled_media(page: Page) -> dict[str, Any]:
    """`remote_media` once the rebuilt call has settled: each side's resumed socket rebuilds
    the call, so a tile measured just then may be replaced under the measurement."""
    media: dict[str, Any] | None = None
    for _ in range(5):
        try:
            media = await remote_media(page)
        except AssertionError:  # the tile was replaced while measured
            media = None
        if media and media["framesAfter"] > media["framesBefore"] and media["audioPeak"] > 0:
            return media
        await page.wait_for_timeout(500)
    return media or await remote_media(page)


async def switched_context(browser: Browser, base: str) -> tuple[BrowserContext, SocketSwitch]:
    context = await media_context(browser, base)
    switch = SocketSwitch()
    await switch.attach(context)
    return context, switch


async def test_waiting_room_and_console_show_a_lost_connection_and_recover(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    gp_context, gp_switch = await switched_context(browser, base)
    patient_context, patient_switch = await switched_context(browser, base)
    gp, patient = await gp_context.new_page(), await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), "Frakoblet")
    entry = gp.locator(".queue-entry", has_text="Frakoblet")
    await expect(entry.get_by_test_id("admit")).to_be_enabled()
    position = patient.get_by_test_id("queue-position")
    await expect(position).not_to_have_text("Forbinder …")
    place = await position.text_content()

    await patient_switch.cut()
    await gp_switch.cut()

    await expect(patient.get_by_test_id("connection-lost")).to_be_visible()
    await expect(patient.get_by_test_id("connection-lost")).to_contain_text("genopretter")
    await expect(position).to_have_text(place or "")
    await expect(gp.get_by_test_id("console-offline")).to_be_visible()
    await expect(entry.get_by_test_id("admit")).to_be_disabled()

    patient_switch.restore()
    gp_switch.restore()

    await expect(patient.get_by_test_id("connection-lost")).to_be_hidden()
    await expect(position).to_have_text(place or "")
    await expect(gp.get_by_test_id("console-offline")).to_be_hidden()
    await expect(entry.get_by_test_id("admit")).to_be_enabled()
    await entry.get_by_test_id("admit").click()
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
    await end_consultation(gp)
    await expect(patient.get_by_test_id("end")).to_be_visible()
    for context in (gp_context, patient_context):
        await context.close()


async def test_call_pages_say_reconnecting_and_then_that_the_call_is_back(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    gp_context, gp_switch = await switched_context(browser, base)
    patient_context, patient_switch = await switched_context(browser, base)
    gp, patient = await gp_context.new_page(), await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), "Genopret")
    await gp.locator(".queue-entry", has_text="Genopret").get_by_test_id("admit").click()
    for page in (gp, patient):
        await remote_media(page)

    await gp_switch.cut()
    await patient_switch.cut()

    for page in (gp, patient):
        banner = page.get_by_test_id("call-banner")
        await expect(banner).to_have_attribute("data-state", "reconnecting")
        await expect(banner).to_have_text("Genopretter forbindelsen …")
        assert await banner.get_attribute("aria-live") == "polite"

    gp_switch.restore()
    patient_switch.restore()

    for page in (gp, patient):  # "back" shows for a few seconds, then the banner goes
        await expect(page.get_by_test_id("call-banner")).not_to_have_attribute(
            "data-state", "reconnecting"
        )
    for page in (gp, patient):
        media = await settled_media(page)
        assert media["framesAfter"] > media["framesBefore"]
        assert media["audioPeak"] > 0
    await end_consultation(gp)
    await expect(patient.get_by_test_id("end")).to_be_visible()
    for context in (gp_context, patient_context):
        await context.close()
