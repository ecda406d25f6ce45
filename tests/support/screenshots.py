"""The README's screenshots, made from the demo clinic so they show the product as it is.

A real deployment (redis-server and one `almenvideo serve`), `almenvideo demo-setup`, and
Debian's Chromium with fake camera and microphone, as the browser tests run them:
- the GP's console with several patients waiting (laptop, 1366×768);
- the GP in a call with the first of them, media flowing (laptop, 1366×768);
- that patient in the same call, on a phone (390×844).

Run through `scripts/screenshots`, which sets up first and writes to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page, ViewportSize, async_playwright, expect

from tests.support.browser import gp_login, launch, patient_join, remote_media
from tests.support.stack import Stack

PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)
# Who waits in the demo clinic's queue; the first is admitted for the in-call pictures.
PATIENTS = ("Karen Jensen", "Ole Madsen", "Birthe Nielsen", "Ahmed Hassan")


@dataclass(frozen=True)
class Shot:
    file: str
    width: int
    height: int


SHOTS = (
    Shot("gp-console-queue.png", LAPTOP["width"], LAPTOP["height"]),
    Shot("gp-in-call.png", LAPTOP["width"], LAPTOP["height"]),
    Shot("patient-phone-in-call.png", PHONE["width"], PHONE["height"]),
)


async def _settle(page: Page) -> None:
    """Fonts loaded and two frames painted, so the picture is what a person would see."""
    await page.evaluate("() => document.fonts.ready")
    await page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )


async def _shoot(page: Page, path: Path) -> None:
    await _settle(page)
    await page.screenshot(path=str(path), animations="disabled", caret="hide")


async def make_screenshots(stack: Stack, out: Path) -> list[Path]:
    """Take the three screenshots from the demo on a running `stack` into the directory
    `out`; returns their paths. Raises when media does not flow, so a picture never shows a
    call that is not one."""
    base = stack.urls[0]
    demo = stack.demo(base)
    paths = [out / shot.file for shot in SHOTS]
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            gp_context = await browser.new_context(viewport=LAPTOP)
            await gp_context.grant_permissions(["camera", "microphone"], origin=base)
            gp = await gp_context.new_page()
            await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])

            patients: list[Page] = []
            for index, name in enumerate(PATIENTS):
                context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
                await context.grant_permissions(["camera", "microphone"], origin=base)
                page = await context.new_page()
                # One drop-in visitor beside the booked patients, as a clinic's morning has.
                url = (
                    demo["dropin_url"]
                    if index == len(PATIENTS) - 1
                    else await stack.new_patient_url(base, demo["clinic_id"])
                )
                await patient_join(page, url, name)
                await expect(page.get_by_test_id("queue-position")).to_be_visible()
                patients.append(page)
            await expect(gp.locator("#waiting-list .queue-entry")).to_have_count(len(PATIENTS))
            await _shoot(gp, paths[0])

            first = patients[0]
            entry = gp.locator(".queue-entry", has_text=PATIENTS[0])
            await entry.get_by_test_id("admit").click()
            for page in (gp, first):
                media = await remote_media(page)
                if not (media["width"] > 0 and media["framesAfter"] > media["framesBefore"]):
                    raise RuntimeError(f"no video arrived at {page.url}: {media}")
                if media["audioPeak"] <= 0:
                    raise RuntimeError(f"no audio arrived at {page.url}: {media}")
            await _shoot(gp, paths[1])
            await _shoot(first, paths[2])
        finally:
            await browser.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="almenvideo-shots-") as directory:
        stack = Stack(Path(directory), instances=1)
        stack.start()
        try:
            for path in asyncio.run(make_screenshots(stack, args.out)):
                print(f"{path}  {path.stat().st_size // 1024} KiB")
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
