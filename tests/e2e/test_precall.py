"""The patient's line test in real Chromium against the server's real aiortc echo peer."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, expect

from server.consultations.links import resolve_link
from server.media.verdict import VERDICTS
from server.store.consultations import Consultation
from tests.support.browser import media_context, own_camera_shows
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

VERDICT = re.compile("^(" + "|".join(VERDICTS) + ")$")
LINE_TEST_TIMEOUT = 30_000  # connect (≤ 10 s) plus five seconds of measuring, on a busy machine


async def stored(stack: Stack, patient_url: str) -> Consultation:
    """The consultation behind the link, as Redis has it now."""
    redis = aioredis.from_url(stack.redis.url, decode_responses=True)
    try:
        resolved = await resolve_link(redis, patient_url.rsplit("/", 1)[1])
    finally:
        await redis.aclose()
    assert resolved.consultation is not None
    return resolved.consultation


async def figure(page: Page, test_id: str) -> str | None:
    return await page.get_by_test_id(test_id).get_attribute("data-value")


async def run_line_test(page: Page) -> str:
    """Press start and wait for the verdict; returns it."""
    await page.get_by_test_id("precall-start").click()
    verdict = page.get_by_test_id("precall-verdict")
    await expect(verdict).to_be_visible(timeout=LINE_TEST_TIMEOUT)
    await expect(verdict).to_have_attribute("data-verdict", VERDICT)
    return str(await verdict.get_attribute("data-verdict"))


async def test_line_test_echoes_media_and_stores_the_verdict(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await media_context(browser, stack.urls[0])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = await stack.new_patient_url(stack.urls[0], demo["clinic_id"])
    await page.goto(url)
    await own_camera_shows(page)

    verdict = await run_line_test(page)

    # Loopback with fake devices: a good line, measured from media that came back.
    assert verdict == "good", await page.get_by_test_id("precall-verdict").inner_text()
    echo = page.get_by_test_id("precall-echo")
    assert int(await echo.get_attribute("data-frames-decoded") or 0) > 0
    rtt, bitrate, loss = (
        await figure(page, "precall-rtt"),
        await figure(page, "precall-bitrate"),
        await figure(page, "precall-loss"),
    )
    assert rtt is not None and float(rtt) >= 0
    assert bitrate is not None and float(bitrate) > 0
    assert loss is not None and 0 <= float(loss) <= 100
    await expect(page.get_by_test_id("precall-rtt")).to_contain_text(re.compile(r"\d+ ms"))
    await expect(page.get_by_test_id("precall-camera")).to_have_text("Virker")
    await expect(page.get_by_test_id("precall-verdict")).to_contain_text("Din forbindelse er god")

    c = await stored(stack, url)
    assert c.precall_verdict == verdict
    assert c.precall_at is not None
    assert errors == []
    await context.close()


async def test_line_test_without_a_camera_still_measures_the_line(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await browser.new_context()  # camera and microphone refused
    page = await context.new_page()
    url = await stack.new_patient_url(stack.urls[1], demo["clinic_id"])
    await page.goto(url)
    await expect(page.get_by_test_id("media-problem")).to_be_visible()

    verdict = await run_line_test(page)

    assert verdict == "will_not_work"
    await expect(page.get_by_test_id("precall-camera")).to_have_text("Virker ikke")
    advice = page.get_by_test_id("precall-verdict")
    await expect(advice).to_contain_text("kamera")
    await expect(advice).to_contain_text("ringe til dig")
    assert (await stored(stack, url)).precall_verdict == "will_not_work"
    await context.close()


async def test_speaker_test_plays_a_tone_and_the_test_runs_again_in_english(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    context = await media_context(browser, stack.urls[0])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = await stack.new_patient_url(stack.urls[0], demo["clinic_id"])
    await page.goto(f"{url}?lang=en")
    await own_camera_shows(page)
    tone = page.get_by_test_id("precall-tone")
    await tone.click()
    await expect(tone).to_be_disabled()  # while the tone plays
    await expect(tone).to_be_enabled()

    await run_line_test(page)
    first = (await stored(stack, url)).precall_at
    await expect(page.get_by_test_id("precall-start")).to_have_text("Test again")
    await run_line_test(page)
    assert (await stored(stack, url)).precall_at != first
    await expect(page.get_by_test_id("precall-verdict")).to_contain_text("Your connection")
    assert errors == []
    await context.close()
