"""Real calls between two homes of the lab: Chromium in each home namespace, the app, Redis
and coturn on the lab's internet. Media must flow both ways, and the candidate pair that
carries it must be the one the network allows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.network.chromium import RECORD_PEERS_JS, launch_in, selected_pair
from tests.network.deployment import TURN_HOST, Deployment, deploy
from tests.network.lab import Firewall, Lab, Nat, Site
from tests.support.browser import gp_login, patient_join, remote_media

expect.set_options(timeout=20_000)


@pytest.fixture
def deployment(lab: Lab) -> Deployment:
    return deploy(lab)


def assert_media_flows(media: dict[str, Any]) -> None:
    assert media["width"] > 0
    assert media["framesAfter"] > media["framesBefore"], "remote video frames did not advance"
    assert media["audioPeak"] > 0, "no inbound audio energy"


async def call(
    lab: Lab, deployment: Deployment, gp_site: Site, patient_site: Site
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A GP admits a patient; returns the pair each side's call is carried by."""
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
        entry = gp.locator(".queue-entry", has_text="Karen Jensen")
        await expect(entry).to_be_visible()
        await entry.get_by_test_id("admit").click()
        assert_media_flows(await remote_media(gp))
        assert_media_flows(await remote_media(patient))
        pairs = await selected_pair(gp), await selected_pair(patient)
        print("candidate pairs (gp, patient):", *pairs)
        return pairs


@pytest.mark.e2e
async def test_two_home_routers_connect_directly(lab: Lab, deployment: Deployment) -> None:
    gp = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient = lab.site("patient", Nat.DOUBLE)

    gp_pair, patient_pair = await call(lab, deployment, gp, patient)

    assert gp_pair is not None and patient_pair is not None
    assert gp_pair["local"] != "relay" and patient_pair["local"] != "relay"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("firewall", "relay_protocols"),
    [(Firewall.UDP_BLOCKED, {"tcp", "tls"}), (Firewall.TCP443_ONLY, {"tls"})],
)
async def test_a_patient_behind_a_strict_firewall_is_relayed(
    lab: Lab, deployment: Deployment, firewall: Firewall, relay_protocols: set[str]
) -> None:
    gp = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient = lab.site("patient", Nat.SYMMETRIC, firewall)

    gp_pair, patient_pair = await call(lab, deployment, gp, patient)

    assert gp_pair is not None and patient_pair is not None
    assert patient_pair["local"] == "relay"
    assert patient_pair["relayProtocol"] in relay_protocols
    assert patient.dropped() > 0
