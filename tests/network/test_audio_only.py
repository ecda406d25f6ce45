"""When the patient's line cannot carry video (its uplink capped at 60 kbit/s), the call turns
audio only by itself: nobody sends video, both pages say so, and the sound still arrives."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.network.chromium import RECORD_PEERS_JS, launch_in
from tests.network.deployment import TURN_HOST, Deployment, deploy
from tests.network.lab import Lab, Nat
from tests.network.test_call import assert_media_flows
from tests.support.browser import gp_login, patient_join, remote_media

UPLINK_KBIT = 60
SENDING_VIDEO = """
() => window.__labPeers.at(-1).getSenders()
  .some((s) => s.track?.kind === "video" && s.track.enabled)
"""


@pytest.fixture
def deployment(lab: Lab) -> Deployment:
    return deploy(lab)


@pytest.mark.e2e
async def test_a_thin_uplink_turns_the_call_audio_only(lab: Lab, deployment: Deployment) -> None:
    gp_site = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient_site = lab.site("patient", Nat.ENDPOINT_INDEPENDENT)
    demo = deployment.demo()
    base = deployment.base_url
    flags = [f"--unsafely-treat-insecure-origin-as-secure={base}", "--ignore-certificate-errors"]
    for site in (gp_site, patient_site):
        site.host.hosts({TURN_HOST: deployment.turn_address})
    async with async_playwright() as playwright:
        pages: list[Page] = []
        for site in (gp_site, patient_site):
            browser = await launch_in(playwright, site.host, lab.directory, *flags)
            context = await browser.new_context()
            await context.grant_permissions(["camera", "microphone"], origin=base)
            await context.add_init_script(RECORD_PEERS_JS)
            pages.append(await context.new_page())
        gp, patient = pages
        await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
        await patient_join(patient, demo["patient_url"], "Karen Jensen")
        await gp.locator(".queue-entry", has_text="Karen Jensen").get_by_test_id("admit").click()
        for page in pages:
            assert_media_flows(await remote_media(page))
            await expect(page.get_by_test_id("audio-only-notice")).to_be_hidden()

        lab.limit(patient_site, UPLINK_KBIT)

        for page in pages:
            notice = page.get_by_test_id("audio-only-notice")
            await expect(notice).to_have_text(
                "Kun lyd: forbindelsen kan ikke bære video lige nu.", timeout=45_000
            )
        for page in pages:
            assert not await page.evaluate(SENDING_VIDEO), "video is still being sent"
            media = await remote_media(page, seconds=3)
            assert media["audioPeak"] > 0, "no inbound audio energy"
