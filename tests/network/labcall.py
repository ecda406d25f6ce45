"""A call through the pages between two homes of the lab: Chromium in each home, the app,
Redis and coturn on the lab's internet. The tests start one, then break the network or
read what carried it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from playwright.async_api import Page, async_playwright, expect

from tests.network.chromium import RECORD_PEERS_JS, launch_in
from tests.network.deployment import TURN_HOST, Deployment
from tests.network.lab import Lab, Site
from tests.support.browser import gp_login, patient_join, remote_media


def assert_media_flows(media: dict[str, Any]) -> None:
    assert media["width"] > 0
    assert media["framesAfter"] > media["framesBefore"], "remote video frames did not advance"
    assert media["audioPeak"] > 0, "no inbound audio energy"


@asynccontextmanager
async def admitted_call(
    lab: Lab, deployment: Deployment, gp_site: Site, patient_site: Site
) -> AsyncIterator[tuple[Page, Page]]:
    """The GP admits the demo patient; yields (GP page, patient page) once media flows both
    ways."""
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
        for page in pages:
            assert_media_flows(await remote_media(page))
        yield gp, patient
