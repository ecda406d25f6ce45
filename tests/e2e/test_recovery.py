"""Connections break in real life: the signalling socket drops, the ICE path is restarted.

The pages are instrumented from the test only (an init script records the page's
RTCPeerConnections and WebSockets); the product code is unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

RECORD_CONNECTIONS = """
window.__pcs = [];
window.__sockets = [];
const NativePC = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new NativePC(...args);
  window.__pcs.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = NativePC.prototype;
const NativeWS = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new NativeWS(...args);
  window.__sockets.push(ws);
  return ws;
};
window.WebSocket.prototype = NativeWS.prototype;
Object.assign(window.WebSocket, { OPEN: 1, CLOSED: 3, CONNECTING: 0, CLOSING: 2 });
"""


async def start_call(
    browser: Browser, stack: Stack, demo: dict[str, Any], name: str
) -> tuple[BrowserContext, Page, BrowserContext, Page]:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    patient_context = await media_context(browser, base)
    await patient_context.add_init_script(RECORD_CONNECTIONS)
    gp = await gp_context.new_page()
    patient = await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), name)
    await gp.locator(".queue-entry", has_text=name).get_by_test_id("admit").click()
    await remote_media(gp)
    await remote_media(patient)
    return gp_context, gp, patient_context, patient


async def end_call(gp: Page, patient: Page, *contexts: BrowserContext) -> None:
    await end_consultation(gp)
    await expect(patient.get_by_test_id("end")).to_be_visible()
    for context in contexts:
        await context.close()


async def test_ice_restart_renegotiates_and_media_keeps_flowing(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp_context, gp, patient_context, patient = await start_call(browser, stack, demo, "Ice Restart")
    ufrag = "() => window.__pcs.at(-1).localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]"
    before = await patient.evaluate(ufrag)
    # What the page does when ICE fails: restartIce() -> perfect negotiation sends a new offer.
    await patient.evaluate("() => window.__pcs.at(-1).restartIce()")
    await patient.wait_for_function(f"() => ({ufrag})() !== {before!r}", timeout=10_000)
    await patient.wait_for_function(
        "() => ['connected', 'completed'].includes(window.__pcs.at(-1).iceConnectionState)"
    )
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
    await end_call(gp, patient, gp_context, patient_context)


async def test_signalling_drop_reconnects_and_resumes_the_call(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    gp_context, gp, patient_context, patient = await start_call(browser, stack, demo, "Netværk")
    sockets_before = await patient.evaluate("() => window.__sockets.length")
    await patient.evaluate("() => window.__sockets.at(-1).close()")  # as a network drop would
    reconnected = "() => window.__sockets.length > {} && window.__sockets.at(-1).readyState === 1"
    await patient.wait_for_function(reconnected.format(sockets_before))
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
        assert media["audioPeak"] > 0
    await end_call(gp, patient, gp_context, patient_context)


# Each peer connection the page makes gathers nothing the first time (no ICE servers, relay
# only), as a Chromium gathering that stalls does; later gatherings (a restart) are normal.
FIRST_GATHERING_EMPTY = """
const NativePeer = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeer {
  constructor(config = {}) {
    super({ ...config, iceServers: [], iceTransportPolicy: "relay" });
    this.__config = config;
  }
  async setLocalDescription(...args) {
    await super.setLocalDescription(...args);
    if (this.__config) this.setConfiguration(this.__config);
    this.__config = null;
  }
};
"""


async def test_a_call_whose_ice_never_begins_is_restarted(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    await gp_context.add_init_script(FIRST_GATHERING_EMPTY)
    patient_context = await media_context(browser, base)
    gp = await gp_context.new_page()
    patient = await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), "Ice Stille")
    await gp.locator(".queue-entry", has_text="Ice Stille").get_by_test_id("admit").click()
    for page in (gp, patient):
        media = await remote_media(page)
        assert media["framesAfter"] > media["framesBefore"]
    restarted = "() => performance.getEntriesByName('call:ice-not-started').length"
    assert await gp.evaluate(restarted) + await patient.evaluate(restarted) > 0
    await end_call(gp, patient, gp_context, patient_context)
