"""When the patient's line cannot carry video (its uplink capped at 60 kbit/s), the call turns
audio only by itself: nobody sends video, both pages say so, and the sound still arrives."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.network.deployment import Deployment
from tests.network.lab import Lab, Nat
from tests.network.labcall import admitted_call
from tests.support.browser import remote_media

UPLINK_KBIT = 60
SENDING_VIDEO = """
() => window.__labPeers.at(-1).getSenders()
  .some((s) => s.track?.kind === "video" && s.track.enabled)
"""


@pytest.mark.e2e
async def test_a_thin_uplink_turns_the_call_audio_only(lab: Lab, deployment: Deployment) -> None:
    gp_site = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient_site = lab.site("patient", Nat.ENDPOINT_INDEPENDENT)
    async with admitted_call(lab, deployment, gp_site, patient_site) as (gp, patient):
        pages = [gp, patient]
        for page in pages:
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
