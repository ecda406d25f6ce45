"""The GP's view inside an LPS: the LPS simulator (a real process on its own origin) books,
shows the patient link and frames the GP's console; the GP admits the patient inside the
frame, media flows, and the host page hears the call; a foreign origin cannot frame it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Frame, Page, expect

from tests.e2e.conftest import Lps
from tests.e2e.test_call import assert_media_flows
from tests.support.browser import patient_join, remote_media
from tests.support.redisserver import free_port
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One instance is enough here (the calls across instances are tested elsewhere)."""
    deployment = Stack(Path(tmp_path_factory.mktemp("embed")), instances=1)
    deployment.start()
    yield deployment
    deployment.stop()


async def camera_context(browser: Browser, *origins: str) -> BrowserContext:
    context = await browser.new_context()
    for origin in origins:
        await context.grant_permissions(["camera", "microphone"], origin=origin)
    return context


COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def gp_frame(host: Page) -> Frame:
    frame = next((f for f in host.frames if "/console" in f.url), None)
    assert frame is not None, [f.url for f in host.frames]
    return frame


async def host_message(host: Page, kind: str) -> dict[str, Any]:
    """The one message of this type the host page logged."""
    item = host.get_by_test_id("event-log").locator(f'[data-type="{kind}"]')
    await expect(item).to_have_count(1)
    return dict(json.loads(await item.get_attribute("data-message") or "{}"))


@pytest.mark.e2e
async def test_the_gp_admits_the_patient_inside_the_lps_and_the_lps_hears_the_call(
    browser: Browser, stack: Stack, lps: Lps
) -> None:
    # The camera is the LPS's to grant: a frame's permission belongs to the top-level origin
    # (the iframe delegates with allow="camera; microphone").
    gp_context = await camera_context(browser, lps.url)
    host = await gp_context.new_page()
    await host.goto(f"{lps.url}/")
    await host.get_by_test_id("patient-name").fill("Karen Jensen")
    await host.get_by_test_id("book").click()
    await host.wait_for_url(re.compile(r"/consultations/\w+$"))
    consultation_id = host.url.rsplit("/", 1)[1]
    patient_url = await host.get_by_test_id("patient-link").input_value()

    await host.get_by_test_id("open-video").click()
    ready = await host_message(host, "ready")
    assert ready == {"source": "almenvideo", "type": "ready", "consultation_id": consultation_id}
    gp_view = host.frame_locator('[data-testid="gp-view"]')
    await expect(gp_view.get_by_test_id("logout")).to_have_count(0)  # no navigation of ours

    patient_context = await camera_context(browser, stack.urls[0])
    patient = await patient_context.new_page()
    await patient_join(patient, patient_url, "Karen Jensen")
    waiting = await host_message(host, "patient.waiting")
    assert (waiting["consultation_id"], waiting["connected"]) == (consultation_id, True)
    # The message carries UTC; the LPS's log shows it on the same local clock as its own.
    line = (
        await host.get_by_test_id("event-log").locator('[data-type="patient.waiting"]').inner_text()
    )
    since = datetime.fromisoformat(waiting["waiting_since"]).astimezone(COPENHAGEN)
    assert waiting["waiting_since"] not in line, line
    assert re.search(since.strftime(r"%H[.:]%M[.:]%S"), line), line

    entry = gp_view.locator(".queue-entry", has_text="Karen Jensen")
    await entry.get_by_test_id("admit").click()
    await host_message(host, "call.started")
    assert_media_flows(await remote_media(gp_frame(host)))
    assert_media_flows(await remote_media(patient))

    await host.get_by_test_id("end-call").click()  # the LPS's button, by postMessage
    await expect(gp_view.get_by_test_id("billing-code")).to_have_attribute("data-code", "0125")
    ended = await host_message(host, "call.ended")
    assert ended == {
        "source": "almenvideo", "type": "call.ended",
        "consultation_id": consultation_id, "billing_code": "0125",
    }  # fmt: skip
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await gp_context.close()
    await patient_context.close()


@asynccontextmanager
async def foreign_page(frame_url: str) -> AsyncIterator[str]:
    """Another site's page that tries to frame the GP's view."""

    async def page(request: web.Request) -> web.Response:
        html = f'<!doctype html><title>Foreign</title><iframe id="f" src="{frame_url}"></iframe>'
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://localhost:{port}/"
    finally:
        await runner.cleanup()


@pytest.mark.e2e
async def test_a_page_on_a_foreign_origin_cannot_frame_the_gp_view(
    browser: Browser, stack: Stack, demo: dict[str, Any], lps: Lps
) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{stack.urls[0]}/api/v1/consultations/{demo['consultation_id']}/embed-session",
            json={"practitioner": demo["gp"]["username"]},
            headers={"Authorization": f"Bearer {lps.key}"},
        )
        assert response.status == 201
        embed_url = (await response.json())["url"]
    context = await browser.new_context()
    page = await context.new_page()
    async with foreign_page(embed_url) as url:
        async with page.expect_console_message(
            lambda message: "frame-ancestors" in message.text
        ) as refused:
            await page.goto(url)
        violation = (await refused.value).text
        assert f"frame-ancestors {lps.url}" in violation  # the vendor's origin only
        # Chromium's blocked frame (the violation is logged before the error page commits)
        await page.frames[1].wait_for_url("chrome-error://chromewebdata/", wait_until="commit")
        assert await page.frame_locator("#f").locator("#console").count() == 0
    await context.close()
