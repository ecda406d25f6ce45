"""Call set-up time: from the GP's admit click to the first decoded remote video frame,
on the GP's page and on the patient's page, over real servers, Redis and Chromium.

    python bench/call_setup.py            # 20 calls (target: p50 <= 500 ms, p95 <= 1 s)
    python bench/call_setup.py --quick    # 3 calls, as CI runs it
    python bench/call_setup.py --instances 2   # GP on instance A, patients on instance B
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Page, async_playwright, expect

from tests.support.browser import end_consultation, gp_login, launch, media_context, patient_join
from tests.support.stack import Stack

# Stamps, in epoch milliseconds: the admit click, and each page's first presented remote frame.
PROBE_JS = """
() => {
  window.__bench = { admitAt: null, firstFrame: null };
  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid="admit"]')) {
      window.__bench.admitAt = performance.timeOrigin + performance.now();
    }
  }, true);
  const watch = (video) => video.requestVideoFrameCallback((now) => {
    window.__bench.firstFrame ??= performance.timeOrigin + now;
  });
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) {
      if (!node.querySelectorAll) continue;
      node.querySelectorAll('[data-testid="remote-video"]').forEach(watch);
    }
  }).observe(document.body, { childList: true, subtree: true });
}
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def one_call(gp: Page, patient: Page, url: str, name: str) -> tuple[float, float]:
    await patient_join(patient, url, name)
    entry = gp.locator(".queue-entry", has_text=name)
    await expect(entry).to_be_visible()
    await gp.evaluate(PROBE_JS)
    await patient.evaluate(PROBE_JS)
    await entry.get_by_test_id("admit").click()
    stamps = "() => window.__bench.firstFrame"
    await gp.wait_for_function(stamps, timeout=20_000)
    await patient.wait_for_function(stamps, timeout=20_000)
    admit_at = await gp.evaluate("() => window.__bench.admitAt")
    gp_ms = await gp.evaluate(stamps) - admit_at
    patient_ms = await patient.evaluate(stamps) - admit_at
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_be_visible()
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await gp.get_by_test_id("back-to-list").click()
    return gp_ms, patient_ms


async def run(calls: int, instances: int) -> dict[str, object]:
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-")), instances=instances)
    stack.start()
    try:
        gp_base, patient_base = stack.urls[0], stack.urls[-1]
        demo = stack.demo(gp_base)
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            gp_context = await media_context(browser, gp_base)
            gp = await gp_context.new_page()
            await gp_login(gp, gp_base, demo["gp"]["username"], demo["gp"]["password"])
            gp_times: list[float] = []
            patient_times: list[float] = []
            for index in range(calls):
                url = await stack.new_patient_url(patient_base, demo["clinic_id"])
                context = await media_context(browser, patient_base)
                patient = await context.new_page()
                gp_ms, patient_ms = await one_call(gp, patient, url, f"Bench Patient {index}")
                await context.close()
                gp_times.append(gp_ms)
                patient_times.append(patient_ms)
                print(f"call {index + 1:2d}: gp {gp_ms:6.0f} ms   patient {patient_ms:6.0f} ms")
            await browser.close()
        rss = stack.server_rss_kib()
    finally:
        stack.stop()
    both = [max(a, b) for a, b in zip(gp_times, patient_times, strict=True)]
    return {
        "benchmark": "call_setup",
        "calls": calls,
        "instances": instances,
        "gp_p50_ms": round(percentile(gp_times, 0.5)),
        "gp_p95_ms": round(percentile(gp_times, 0.95)),
        "patient_p50_ms": round(percentile(patient_times, 0.5)),
        "patient_p95_ms": round(percentile(patient_times, 0.95)),
        "both_p50_ms": round(percentile(both, 0.5)),
        "both_p95_ms": round(percentile(both, 0.95)),
        "both_mean_ms": round(statistics.fmean(both)),
        "server_rss_mib": [round(kib / 1024, 1) for kib in rss],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 calls (CI)")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    result = asyncio.run(run(3 if args.quick else args.calls, args.instances))
    print(
        f"admit -> first remote frame over {result['calls']} calls: "
        f"GP p50 {result['gp_p50_ms']} ms / p95 {result['gp_p95_ms']} ms; "
        f"patient p50 {result['patient_p50_ms']} ms / p95 {result['patient_p95_ms']} ms; "
        f"both sides p50 {result['both_p50_ms']} ms / p95 {result['both_p95_ms']} ms "
        "(target p50 <= 500, p95 <= 1000)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
