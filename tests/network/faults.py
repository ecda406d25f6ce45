"""Faults during a call, made in the lab, and the time until the call is back.

A fault happens to the patient's network: its uplink is cut for 5 s; for 10 s its line
delays every packet by 200 ms and loses 10 % of them, each way (the lab's own line,
`tests.network.line`, since this kernel has no `tc netem`); or its host moves to another
network with a new address (Wi-Fi to mobile: the old link and address are gone). The
patient's site needs its line (`lab.site(..., line=True)`). Recovery is the time from the
fault's end until each page's remote video advances again steadily.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from playwright.async_api import Page

from tests.network.lab import Lab, Nat, Site

LINK_DOWN_SECONDS = 5
LOSSY_SECONDS = 10
LOSSY_DELAY_MS = 200
LOSSY_PERCENT = 10
RECOVERY_PATIENCE_MS = 60_000


class Fault(StrEnum):
    LINK_DOWN = "link-down"
    LOSSY = "loss10-delay200"
    ADDRESS_CHANGE = "address-change"


async def inflict(lab: Lab, site: Site, fault: Fault) -> Site:
    """Make the fault and end it; the site as it is afterwards (moved, for an address change)."""
    if fault is Fault.LINK_DOWN:
        lab.uplink(site, up=False)
        await asyncio.sleep(LINK_DOWN_SECONDS)
        lab.uplink(site, up=True)
    elif fault is Fault.LOSSY:
        lab.degrade(site, LOSSY_DELAY_MS, LOSSY_PERCENT)
        await asyncio.sleep(LOSSY_SECONDS)
        lab.degrade(site)
    else:
        return lab.move(site, Nat.DOUBLE)  # a phone behind its carrier's CGNAT
    return site


# Milliseconds from now until the remote video has advanced by `frames` frames in one run
# (no gap over 500 ms), counted from that run's first new frame; null if it never does. A
# tile rebuilt meanwhile (a resumed socket builds the call anew) counts from its first frame.
FRAMES_AGAIN_JS = """
async ([frames, patienceMs]) => {
  const start = performance.now();
  const videos = () => [...document.querySelectorAll('[data-testid="remote-video"]')];
  const total = (v) => v.getVideoPlaybackQuality().totalVideoFrames;
  const base = new Map(videos().map((v) => [v, total(v)]));
  let last = null, runStart = null, runFrames = 0, lastAdvance = 0;
  while (performance.now() - start < patienceMs) {
    const now = performance.now();
    let count = 0;
    for (const v of videos()) {
      if (!base.has(v)) base.set(v, 0);
      count += Math.max(0, total(v) - base.get(v));
    }
    if (last !== null && count > last) {
      if (runStart === null || now - lastAdvance > 500) { runStart = now; runFrames = 0; }
      runFrames += count - last;
      lastAdvance = now;
      if (runFrames >= frames) return runStart - start;
    }
    last = count;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}
"""


async def recovery_ms(pages: list[Page], frames: int = 5) -> list[float | None]:
    """For each page, from now (the fault's end) until its remote video flows again."""
    found = await asyncio.gather(
        *(page.evaluate(FRAMES_AGAIN_JS, [frames, RECOVERY_PATIENCE_MS]) for page in pages)
    )
    return [None if ms is None else float(ms) for ms in found]
