"""A call survives its network breaking: the patient's uplink cut for 5 s, a lossy and slow
line, the patient's address changing mid-call. Nobody presses anything; the pages restart
ICE (and, if need be, their sockets) until remote frames flow again on both sides."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.network.chromium import RECORD_PEERS_JS, launch_in, selected_pair
from tests.network.deployment import TURN_HOST, Deployment, deploy
from tests.network.faults import Fault, inflict, recovery_ms
from tests.network.lab import Lab, Nat
from tests.network.test_call import assert_media_flows
from tests.support.browser import gp_login, patient_join, remote_media

expect.set_options(timeout=20_000)


@pytest.fixture
def deployment(lab: Lab) -> Deployment:
    return deploy(lab)


@pytest.mark.e2e
@pytest.mark.parametrize("fault", list(Fault))
async def test_the_call_recovers_by_itself(lab: Lab, deployment: Deployment, fault: Fault) -> None:
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

        moved = await inflict(lab, patient_site, fault)
        recovered = await recovery_ms(pages)

        print(f"{fault}: remote frames again after (gp, patient) ms:", recovered)
        for page in pages:
            print(await page.evaluate("() => window.__labPeers.map((pc) => pc.iceConnectionState)"))
        print("candidate pairs after:", await selected_pair(gp), await selected_pair(patient))
        assert None not in recovered, "remote frames never flowed again"
        for page in pages:
            assert_media_flows(await remote_media(page))
        if fault is Fault.ADDRESS_CHANGE:
            pair = await selected_pair(gp)
            assert pair is not None and pair["remoteAddress"] != patient_site.public_address
            assert moved.public_address != patient_site.public_address
