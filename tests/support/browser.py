"""Driving real Chromium (Debian's package) through Playwright, as a patient and as a GP."""

from __future__ import annotations

import os
import shutil
from typing import Any

from playwright.async_api import Browser, BrowserContext, Frame, Page, Playwright

# Flags from DESIGN.md; without the background-networking ones Chromium tries to reach the
# internet and stalls. Permission prompts are not auto-accepted: each context grants them,
# so a test can also see what a patient who refuses sees.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError("Chromium is missing: run ./scripts/test, which installs it")
    return path


async def launch(playwright: Playwright, *extra_args: str) -> Browser:
    return await playwright.chromium.launch(
        executable_path=chromium_path(), args=[*CHROMIUM_ARGS, *extra_args]
    )


async def media_context(browser: Browser, base_url: str) -> BrowserContext:
    context = await browser.new_context()
    await context.grant_permissions(["camera", "microphone"], origin=base_url)
    return context


async def gp_login(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(password)
    await page.get_by_test_id("login").click()
    await page.wait_for_url(f"{base_url}/console")


async def patient_join(page: Page, url: str, name: str) -> None:
    await page.goto(url)
    await page.get_by_test_id("name").fill(name)
    await page.get_by_test_id("accept-terms").check()
    await page.get_by_test_id("join").click()


async def own_camera_shows(page: Page) -> None:
    """The patient page's own preview has a picture (device check done)."""
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=self-preview]').videoWidth > 0"
    )


REMOTE_MEDIA_JS = """
async ([index, seconds]) => {
  const video = document.querySelectorAll('[data-testid="remote-video"]')[index];
  if (!video || !video.srcObject) return null;
  const framesBefore = video.getVideoPlaybackQuality().totalVideoFrames;
  const context = new AudioContext();
  await context.resume();
  const source = context.createMediaStreamSource(video.srcObject);
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let audioPeak = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    analyser.getFloatTimeDomainData(samples);
    for (const sample of samples) audioPeak = Math.max(audioPeak, Math.abs(sample));
  }
  await context.close();
  return {
    width: video.videoWidth,
    height: video.videoHeight,
    framesBefore,
    framesAfter: video.getVideoPlaybackQuality().totalVideoFrames,
    audioPeak,
  };
}
"""

# At least (or, with `exact`, exactly) `count` remote videos, the first `count` playing.
REMOTE_VIDEOS_PLAYING_JS = """
([count, exact]) => {
  const videos = [...document.querySelectorAll('[data-testid="remote-video"]')];
  if (exact ? videos.length !== count : videos.length < count) return false;
  return videos.slice(0, count).every((v) => v.videoWidth > 0);
}
"""


async def remote_media(page: Page | Frame, seconds: float = 1.5, index: int = 0) -> dict[str, Any]:
    """What actually arrived from one other participant: video size, frames decoded over a
    window, and the loudest inbound audio sample in it. (A frame: the GP's view in an LPS.)"""
    await page.wait_for_function(REMOTE_VIDEOS_PLAYING_JS, arg=[index + 1, False], timeout=20_000)
    result = await page.evaluate(REMOTE_MEDIA_JS, [index, seconds])
    assert result is not None
    return dict(result)


async def all_remote_media(page: Page, count: int, seconds: float = 1.5) -> list[dict[str, Any]]:
    """`remote_media` for each of exactly `count` remote participants."""
    await page.wait_for_function(REMOTE_VIDEOS_PLAYING_JS, arg=[count, True], timeout=20_000)
    return [await remote_media(page, seconds, index) for index in range(count)]


async def end_consultation(gp: Page | Frame, continued_by_phone: bool = False) -> None:
    """The GP ends the consultation: the end button asks first, and the dialog confirms (or
    ends it as continued by phone)."""
    await gp.get_by_test_id("hangup").click()
    await gp.get_by_test_id("end-by-phone" if continued_by_phone else "confirm-end").click()


TOPMOST_JS = """
(testid) => {
  const element = document.querySelector(`[data-testid="${testid}"]`);
  const box = element.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return Boolean(hit && element.contains(hit));
}
"""


async def is_topmost(page: Page | Frame, testid: str) -> bool:
    """Nothing covers the element at its centre: a person can see it and press it."""
    return bool(await page.evaluate(TOPMOST_JS, testid))
