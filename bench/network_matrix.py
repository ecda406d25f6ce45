"""Of the calls a GP starts, how many reach media, on any network: the namespace lab's
matrix (tests/network/lab.py), with the real app, Redis and coturn on its internet and
Chromium in the homes. Needs root.

Cells: every NAT type for the GP's side times every NAT type for the patient's side, each
with the patient's network open, blocking UDP, or letting only TCP 443 out. Each call is a
new patient admitted by the GP; it succeeds when both pages decode a remote frame. Setup
time is from the admit click to the later of the two first frames.

    python bench/network_matrix.py            # 8 calls per cell (240; target >= 99.5 %)
    python bench/network_matrix.py --quick    # 2 calls per cell (60), as CI runs it
    python bench/network_matrix.py --quick --faults-only

Fault cells (gp:eim patient:eim open, in a lab of their own) break each call once it has
media: the patient's uplink cut for 5 s, 200 ms delay and 10 % loss each way for 10 s
(through a line in the patient's uplink), or the patient's
address changing (tests/network/faults.py). A fault call succeeds when media comes back by
itself; its recovery time is from the fault's end until both pages' remote video advances
again (the later of the two). Those cells add `fault`, `recovered`, `recovery_p50_ms` and
`recovery_p95_ms`, and the JSON line a `recovery` summary per fault.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Browser, Page, Playwright, async_playwright, expect

from bench.call_setup import MARKS_JS, PROBE_JS, percentile
from tests.network.chromium import RECORD_PEERS_JS, launch_in, peer_states, selected_pair
from tests.network.deployment import TURN_HOST, Deployment, deploy
from tests.network.faults import Fault, inflict, recovery_ms
from tests.network.lab import Firewall, Lab, Nat, Site
from tests.support.browser import end_consultation, gp_login, patient_join

FIRST_FRAME_TIMEOUT_MS = 20_000
NATS = {
    Nat.ENDPOINT_INDEPENDENT: "eim",
    Nat.SYMMETRIC: "symmetric",
    Nat.DOUBLE: "double",
}
FIREWALLS = {
    Firewall.OPEN: "open",
    Firewall.UDP_BLOCKED: "udp-blocked",
    Firewall.TCP443_ONLY: "443-only",
}


@dataclass
class Cell:
    gp_nat: Nat
    patient_nat: Nat
    firewall: Firewall
    setup_ms: list[float] = field(default_factory=list)
    failures: int = 0
    candidates: Counter[str] = field(default_factory=Counter)
    fault: Fault | None = None
    recovery_ms: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        gp, patient = NATS[self.gp_nat], NATS[self.patient_nat]
        sides = f"gp:{gp} patient:{patient} {FIREWALLS[self.firewall]}"
        return sides if self.fault is None else f"{self.fault} {sides}"

    @property
    def calls(self) -> int:
        return len(self.setup_ms) + self.failures

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calls": self.calls,
            "succeeded": len(self.setup_ms),
            "p50_ms": round(percentile(self.setup_ms, 0.5)) if self.setup_ms else None,
            "p95_ms": round(percentile(self.setup_ms, 0.95)) if self.setup_ms else None,
            "candidate_types": sorted(self.candidates),
            **(self.recovery() if self.fault else {}),
        }

    def recovery(self) -> dict[str, Any]:
        times = self.recovery_ms
        return {
            "fault": str(self.fault),
            "recovered": len(times),
            "recovery_p50_ms": round(percentile(times, 0.5)) if times else None,
            "recovery_p95_ms": round(percentile(times, 0.95)) if times else None,
        }


def describe(pair: dict[str, Any] | None) -> str:
    if pair is None:
        return "none"
    if pair["local"] == "relay":
        return f"relay-{pair['relayProtocol']}"
    return f"{pair['local']}-{pair['protocol']}"


async def browser_in(playwright: Playwright, lab: Lab, site: Site, base: str) -> Browser:
    flags = [f"--unsafely-treat-insecure-origin-as-secure={base}", "--ignore-certificate-errors"]
    return await launch_in(playwright, site.host, lab.directory, *flags)


async def new_page(browser: Browser, base: str, console: list[str]) -> Page:
    """A page whose console warnings and errors (and crashes) go to `console`."""
    context = await browser.new_context()
    await context.grant_permissions(["camera", "microphone"], origin=base)
    await context.add_init_script(RECORD_PEERS_JS)
    page = await context.new_page()
    page.on(
        "console",
        lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None,
    )
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    return page


async def explain(
    failed: Exception, pages: dict[str, Page], consoles: dict[str, list[str]]
) -> None:
    """Print where a call that never reached media stopped: the error, each side's call
    timeline since the admit, its peer connections' states and its console warnings."""
    print(f"    {type(failed).__name__}: {str(failed).splitlines()[0] if str(failed) else ''}")
    for side, page in pages.items():
        try:
            admit_at = await pages["gp"].evaluate("() => window.__bench?.admitAt")
            marks = await page.evaluate(MARKS_JS)
            since = {k: round(v - admit_at) for k, v in marks.items()} if admit_at else marks
            print(f"    {side} timeline: {since}")
            print(f"    {side} peers: {await peer_states(page)}")
        except Exception as unreadable:  # a crashed page tells nothing more
            print(f"    {side}: unreadable ({unreadable})")
        for line in consoles[side][-10:]:
            print(f"    {side} console {line[:300]}")


async def one_call(
    gp: Page, patient: Page, url: str, name: str, fault: tuple[Lab, Site, Fault] | None = None
) -> tuple[float, str, float | None]:
    """Setup time in ms, the pair each side used and, after a fault, the recovery time;
    raises when media never arrived (or never came back)."""
    await patient_join(patient, url, name)
    entry = gp.locator(".queue-entry", has_text=name)
    await expect(entry).to_be_visible(timeout=FIRST_FRAME_TIMEOUT_MS)
    await gp.evaluate(PROBE_JS)
    await patient.evaluate(PROBE_JS)
    await entry.get_by_test_id("admit").click()
    stamps = "() => window.__bench.firstFrame"
    await gp.wait_for_function(stamps, timeout=FIRST_FRAME_TIMEOUT_MS)
    await patient.wait_for_function(stamps, timeout=FIRST_FRAME_TIMEOUT_MS)
    admit_at = await gp.evaluate("() => window.__bench.admitAt")
    setup = max(await gp.evaluate(stamps), await patient.evaluate(stamps)) - admit_at
    recovered = None
    if fault is not None:
        await inflict(*fault)
        both = await recovery_ms([gp, patient])
        if None in both:
            raise TimeoutError("media did not come back")
        recovered = max(ms for ms in both if ms is not None)
    gp_pair, patient_pair = await selected_pair(gp), await selected_pair(patient)
    pairs = f"gp:{describe(gp_pair)} patient:{describe(patient_pair)}"
    for side, page in (("gp", gp), ("patient", patient)):
        if "ice-not-started" in await page.evaluate(MARKS_JS):  # peer.js restarted it
            print(f"    {name}: the {side}'s ICE had not begun and was restarted")
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_be_visible()
    return setup, pairs, recovered


async def run_cell(
    playwright: Playwright, lab: Lab, deployment: Deployment, demo: dict[str, Any], cell: Cell,
    calls: int,
) -> None:  # fmt: skip
    gp_site = lab.site(f"g{len(lab.sites)}", cell.gp_nat)
    patient_site = lab.site(
        f"p{len(lab.sites)}", cell.patient_nat, cell.firewall, line=cell.fault is not None
    )
    for site in (gp_site, patient_site):
        site.host.hosts({TURN_HOST: deployment.turn_address})
    base = deployment.base_url
    gp_browser = await browser_in(playwright, lab, gp_site, base)
    patient_browser = await browser_in(playwright, lab, patient_site, base)
    try:
        for index in range(calls):
            consoles: dict[str, list[str]] = {"gp": [], "patient": []}
            gp = await new_page(gp_browser, base, consoles["gp"])
            await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
            patient = await new_page(patient_browser, base, consoles["patient"])
            url = await deployment.new_patient_url(demo["clinic_id"])
            try:
                name = f"Patient {len(lab.sites):02d}{index:03d}"  # no name inside another
                fault = None if cell.fault is None else (lab, patient_site, cell.fault)
                setup, pairs, recovered = await one_call(gp, patient, url, name, fault)
            except Exception as failed:  # a call that never reached media is the figure
                cell.failures += 1
                print(f"  {cell.name} call {index + 1}: FAILED ({type(failed).__name__})")
                await explain(failed, {"gp": gp, "patient": patient}, consoles)
            else:
                cell.setup_ms.append(setup)
                cell.candidates[pairs] += 1
                back = "" if recovered is None else f"  back after {recovered:.0f} ms"
                print(f"  {cell.name} call {index + 1}: {setup:6.0f} ms  {pairs}{back}")
                if recovered is not None:
                    cell.recovery_ms.append(recovered)
            await gp.context.close()
            await patient.context.close()
    finally:
        await gp_browser.close()
        await patient_browser.close()


async def run_cells(cells: list[Cell], calls_per_cell: int) -> None:
    """The cells in one lab (one address per site: the faults, with their moves, get
    another)."""
    with Lab(Path(tempfile.mkdtemp(prefix="network-matrix-"))) as lab:
        deployment = deploy(lab)
        demo = deployment.demo()
        async with async_playwright() as playwright:
            for cell in cells:
                await run_cell(playwright, lab, deployment, demo, cell, calls_per_cell)


async def run(calls_per_cell: int, faults_only: bool = False) -> dict[str, Any]:
    cells = [
        Cell(gp_nat, patient_nat, firewall)
        for gp_nat, patient_nat, firewall in itertools.product(NATS, NATS, FIREWALLS)
        if not faults_only
    ]
    faults = [Cell(Nat.ENDPOINT_INDEPENDENT, Nat.ENDPOINT_INDEPENDENT, Firewall.OPEN, fault=f)
              for f in Fault]  # fmt: skip
    if cells:
        await run_cells(cells, calls_per_cell)
    await run_cells(faults, calls_per_cell)
    summaries = [cell.summary() for cell in [*cells, *faults]]
    return {
        "calls": sum(s["calls"] for s in summaries),
        "succeeded": sum(s["succeeded"] for s in summaries),
        "cells": summaries,
        "recovery": {str(cell.fault): cell.recovery() for cell in faults},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 calls per cell (CI)")
    parser.add_argument("--calls-per-cell", type=int, default=8)
    parser.add_argument("--faults-only", action="store_true", help="only the fault cells")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("network_matrix needs root (ip netns, nftables)", file=sys.stderr)
        return 2
    result = asyncio.run(run(2 if args.quick else args.calls_per_cell, args.faults_only))
    print(
        f"{'cell':<60} {'calls':>5} {'ok':>4} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'back p50':>8} {'back p95':>8}  candidate pairs"
    )
    for cell in result["cells"]:
        print(
            f"{cell['name']:<60} {cell['calls']:>5} {cell['succeeded']:>4} "
            f"{cell['p50_ms'] or '-':>7} {cell['p95_ms'] or '-':>7} "
            f"{cell.get('recovery_p50_ms') or '-':>8} {cell.get('recovery_p95_ms') or '-':>8}  "
            f"{', '.join(cell['candidate_types'])}"
        )
    share = 100 * result["succeeded"] / max(result["calls"], 1)
    print(
        f"{result['succeeded']} of {result['calls']} calls reached media ({share:.1f} %; "
        "target >= 99.5 %)"
    )
    for fault, back in result["recovery"].items():
        print(
            f"after {fault}: media back in {back['recovered']} calls, "
            f"p50 {back['recovery_p50_ms']} ms, p95 {back['recovery_p95_ms']} ms"
        )
    print(json.dumps(result))
    return 0 if result["succeeded"] == result["calls"] else 1


if __name__ == "__main__":
    sys.exit(main())
