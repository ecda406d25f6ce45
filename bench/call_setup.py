"""Call set-up time: from the GP's admit click to the first decoded remote video frame,
on the GP's page and on the patient's page, over real servers, Redis and Chromium.

    python bench/call_setup.py            # 20 calls (goal: p50 <= 150 ms, p95 <= 250 ms)
    python bench/call_setup.py --quick    # 3 calls, as CI runs it
    python bench/call_setup.py --instances 2   # GP on instance A, patients on instance B

Every run also measures the floor: two peer connections in one page of the same Chromium,
offer and answer handed over directly, createOffer -> first presented frame on both sides
(no server, no sockets), and reports set-up as a multiple of it. Each call's timeline comes
from the "call:<step>" User Timing marks the call code sets (web/static/js/timeline.js), in
milliseconds after the admit click; the medians show where the time goes.

The GP admits once the patient's page shows its place and a second has passed, as a real
patient waits at least that long: admitting the instant the page loads would time the
page's own loading along with the call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Browser, Page, async_playwright, expect

from bench.measure import cpu_seconds, percentile
from tests.support.browser import end_consultation, gp_login, launch, media_context, patient_join
from tests.support.stack import Stack

# Stamps, in epoch milliseconds: the admit click, and each page's first presented remote frame;
# and the page's long tasks (main thread busy > 50 ms at a stretch) as [start, duration].
PROBE_JS = """
() => {
  performance.clearMarks();
  window.__bench = { admitAt: null, firstFrame: null, longTasks: [] };
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) {
      window.__bench.longTasks.push([performance.timeOrigin + task.startTime, task.duration]);
    }
  }).observe({ type: "longtask" });
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

# The first of each "call:<step>" mark since the probe, in epoch milliseconds.
MARKS_JS = """
() => {
  const marks = {};
  for (const entry of performance.getEntriesByType("mark")) {
    if (!entry.name.startsWith("call:")) continue;
    const step = entry.name.slice(5);
    marks[step] ??= performance.timeOrigin + entry.startTime;
  }
  return marks;
}
"""

# The floor: two peer connections in this page, both sending the fake camera and microphone,
# candidates and descriptions handed over directly. createOffer -> the later of the two
# sides' connectionState "connected", and -> the later first presented remote frame, `runs`
# times; milliseconds.
FLOOR_JS = """
async (runs) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const times = [];
  for (let run = 0; run < runs; run++) {
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    const connected = [a, b].map((pc) => new Promise((resolve) => {
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "connected") resolve(performance.now());
      });
    }));
    const frames = [a, b].map((pc, index) => new Promise((resolve) => {
      const other = index === 0 ? b : a;
      pc.addEventListener("icecandidate", ({ candidate }) => {
        if (candidate) other.addIceCandidate(candidate);
      });
      pc.addEventListener("track", ({ track, streams }) => {
        if (track.kind !== "video") return;
        const video = document.createElement("video");
        video.muted = true;
        video.srcObject = streams[0];
        video.requestVideoFrameCallback(() => resolve(performance.now()));
        video.play();
      });
    }));
    for (const track of stream.getTracks()) {
      a.addTrack(track.clone(), stream);
      b.addTrack(track.clone(), stream);
    }
    const start = performance.now();
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    const framed = Math.max(...(await Promise.all(frames))) - start;
    times.push([Math.max(...(await Promise.all(connected))) - start, framed]);
    for (const pc of [a, b]) {
      pc.getSenders().forEach((sender) => sender.track?.stop());
      pc.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stream.getTracks().forEach((track) => track.stop());
  return times;
}
"""

SETTLE_S = 1.0

# The steps of the timeline, in the order they usually happen.
STEPS = [
    "admit-sent",
    "joined",
    "peer-added",
    "warm-adopted",
    "offer-sent",
    "offer-received",
    "answer-sent",
    "answer-received",
    "ice-connected",
    "connected",
    "first-frame",
]


async def floor(browser: Browser, base_url: str, runs: int) -> list[tuple[float, float]]:
    """(connected, first frame) per run, milliseconds after createOffer."""
    context = await media_context(browser, base_url)
    page = await context.new_page()
    await page.goto(f"{base_url}/healthz")
    times: list[list[float]] = await page.evaluate(FLOOR_JS, runs)
    await context.close()
    return [(connected, framed) for connected, framed in times]


async def busy_ms(page: Page, since: float) -> float:
    """The page's main thread in long tasks from `since` to its first remote frame."""
    return float(
        await page.evaluate(
            """(since) => window.__bench.longTasks
                .filter(([start]) => start >= since - 50 && start <= window.__bench.firstFrame)
                .reduce((sum, [, duration]) => sum + duration, 0)""",
            since,
        )
    )


async def one_call(
    gp: Page, patient: Page, url: str, name: str, server_pids: list[int]
) -> tuple[float, float, dict[str, float], dict[str, float]]:
    """Both sides' admit -> first frame, the timeline of steps, and what the set-up cost:
    server CPU and each page's main thread in long tasks."""
    await patient_join(patient, url, name)
    entry = gp.locator(".queue-entry", has_text=name)
    await expect(entry).to_be_visible()
    waiting = "() => document.getElementById('queue-eta').textContent.trim() !== ''"
    await patient.wait_for_function(waiting)
    await asyncio.sleep(SETTLE_S)
    await gp.evaluate(PROBE_JS)
    await patient.evaluate(PROBE_JS)
    cpu_before = 1000 * cpu_seconds(*server_pids)
    await entry.get_by_test_id("admit").click()
    stamps = "() => window.__bench.firstFrame"
    await gp.wait_for_function(stamps, timeout=20_000)
    await patient.wait_for_function(stamps, timeout=20_000)
    server_cpu = 1000 * cpu_seconds(*server_pids) - cpu_before
    admit_at = await gp.evaluate("() => window.__bench.admitAt")
    gp_ms = await gp.evaluate(stamps) - admit_at
    patient_ms = await patient.evaluate(stamps) - admit_at
    costs = {"server_cpu": server_cpu}
    timeline: dict[str, float] = {}
    for side, page in (("gp", gp), ("patient", patient)):
        costs[f"{side}_long_tasks"] = await busy_ms(page, admit_at)
        for step, at in (await page.evaluate(MARKS_JS)).items():
            timeline[f"{side} {step}"] = at - admit_at
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_be_visible()
    await expect(patient.get_by_test_id("end")).to_be_visible()
    await gp.get_by_test_id("back-to-list").click()
    return gp_ms, patient_ms, timeline, costs


def offerer(timeline: dict[str, float]) -> str:
    return "gp" if "gp offer-sent" in timeline else "patient"


def timeline_medians(timelines: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each step's median, over the calls in which the same side made the offer (the
    steps differ with who offers), in the order of those medians."""
    groups: dict[str, dict[str, float]] = {}
    for side_offering in sorted({offerer(t) for t in timelines}):
        group = [t for t in timelines if offerer(t) == side_offering]
        medians = {"calls": float(len(group))}
        for side in ("gp", "patient"):
            for step in STEPS:
                values = [t[f"{side} {step}"] for t in group if f"{side} {step}" in t]
                if values:
                    medians[f"{side} {step}"] = round(statistics.median(values), 1)
        groups[f"{side_offering} offers"] = dict(sorted(medians.items(), key=lambda i: i[1]))
    return groups


async def run(calls: int, instances: int, floor_runs: int, verbose: bool) -> dict[str, Any]:
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-")), instances=instances)
    stack.start()
    try:
        gp_base, patient_base = stack.urls[0], stack.urls[-1]
        demo = stack.demo(gp_base)
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            floor_runs_ms = await floor(browser, gp_base, floor_runs)
            floor_times = [framed for _, framed in floor_runs_ms]
            floor_connected = [connected for connected, _ in floor_runs_ms]
            print("floor:", " ".join(f"{ms:.0f}" for ms in floor_times), "ms")
            gp_context = await media_context(browser, gp_base)
            gp = await gp_context.new_page()
            await gp_login(gp, gp_base, demo["gp"]["username"], demo["gp"]["password"])
            gp_times: list[float] = []
            patient_times: list[float] = []
            timelines: list[dict[str, float]] = []
            costs: list[dict[str, float]] = []
            for index in range(calls):
                url = await stack.new_patient_url(patient_base, demo["clinic_id"])
                context = await media_context(browser, patient_base)
                patient = await context.new_page()
                gp_ms, patient_ms, timeline, cost = await one_call(
                    gp, patient, url, f"Bench Patient {index}", stack.server_pids()
                )
                await context.close()
                gp_times.append(gp_ms)
                patient_times.append(patient_ms)
                timelines.append(timeline)
                costs.append(cost)
                print(
                    f"call {index + 1:2d}: gp {gp_ms:6.0f} ms   patient {patient_ms:6.0f} ms"
                    f"   ({offerer(timeline)} offered)"
                )
                if verbose:
                    for step, ms in sorted(timeline.items(), key=lambda item: item[1]):
                        print(f"  {ms:7.1f}  {step}")
            await browser.close()
        rss = stack.server_rss_kib()
    finally:
        stack.stop()
    both = [max(a, b) for a, b in zip(gp_times, patient_times, strict=True)]
    floor_p50 = statistics.median(floor_times)
    both_p50 = percentile(both, 0.5)
    return {
        "benchmark": "call_setup",
        "calls": calls,
        "instances": instances,
        "gp_p50_ms": round(percentile(gp_times, 0.5)),
        "gp_p95_ms": round(percentile(gp_times, 0.95)),
        "patient_p50_ms": round(percentile(patient_times, 0.5)),
        "patient_p95_ms": round(percentile(patient_times, 0.95)),
        "both_p50_ms": round(both_p50),
        "both_p95_ms": round(percentile(both, 0.95)),
        "both_mean_ms": round(statistics.fmean(both)),
        "floor_runs": floor_runs,
        "floor_p50_ms": round(floor_p50),
        "floor_connected_p50_ms": round(statistics.median(floor_connected)),
        "ratio_p50_to_floor": round(both_p50 / floor_p50, 2),
        "timeline_median_ms": timeline_medians(timelines),
        "server_cpu_ms_per_setup": round(statistics.fmean(c["server_cpu"] for c in costs), 1),
        "long_tasks_median_ms": {
            side: round(statistics.median(c[f"{side}_long_tasks"] for c in costs))
            for side in ("gp", "patient")
        },
        "server_rss_mib": [round(kib / 1024, 1) for kib in rss],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 calls, 5 floor runs (CI)")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1)
    parser.add_argument("--timelines", action="store_true", help="print each call's timeline")
    args = parser.parse_args()
    calls, floor_runs = (3, 5) if args.quick else (args.calls, 10)
    result = asyncio.run(run(calls, args.instances, floor_runs, args.timelines))
    for group, medians in result["timeline_median_ms"].items():
        print(f"timeline when the {group}, median ms after the admit click:")
        for step, ms in medians.items():
            if step != "calls":
                print(f"  {ms:7.1f}  {step}")
    print(
        f"admit -> first remote frame over {result['calls']} calls: "
        f"GP p50 {result['gp_p50_ms']} ms / p95 {result['gp_p95_ms']} ms; "
        f"patient p50 {result['patient_p50_ms']} ms / p95 {result['patient_p95_ms']} ms; "
        f"both sides p50 {result['both_p50_ms']} ms / p95 {result['both_p95_ms']} ms "
        f"(goal p50 <= 150, p95 <= 250); floor p50 {result['floor_p50_ms']} ms, "
        f"set-up p50 = {result['ratio_p50_to_floor']}x the floor"
    )
    print(
        f"per set-up: server CPU {result['server_cpu_ms_per_setup']} ms (mean, 10 ms ticks); "
        "main thread in long tasks until its first frame, median: "
        + ", ".join(f"{side} {ms} ms" for side, ms in result["long_tasks_median_ms"].items())
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
