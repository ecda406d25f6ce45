"""A call survives its network breaking: the patient's uplink cut for 5 s, a lossy and slow
line, the patient's address changing mid-call. Nobody presses anything; the pages restart
ICE (and, if need be, their sockets) until remote frames flow again on both sides."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.network.chromium import selected_pair
from tests.network.deployment import Deployment
from tests.network.faults import LOSSY_DELAY_MS, LOSSY_SECONDS, Fault, inflict, recovery_ms
from tests.network.lab import Lab, Nat
from tests.network.labcall import admitted_call, assert_media_flows
from tests.support.browser import remote_media

expect.set_options(timeout=20_000)


@pytest.mark.e2e
@pytest.mark.parametrize("fault", list(Fault))
async def test_the_call_recovers_by_itself(lab: Lab, deployment: Deployment, fault: Fault) -> None:
    gp_site = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient_site = lab.site("patient", Nat.ENDPOINT_INDEPENDENT, line=True)
    async with admitted_call(lab, deployment, gp_site, patient_site) as (gp, patient):
        pages = [gp, patient]
        breaking = asyncio.create_task(inflict(lab, patient_site, fault))
        if fault is Fault.LOSSY:  # the line is in the call's path: its delay shows
            await asyncio.sleep(LOSSY_SECONDS * 0.8)
            during = await selected_pair(patient)
            assert during is not None and during["rttMs"] >= 2 * LOSSY_DELAY_MS, during
        moved = await breaking
        recovered = await recovery_ms(pages)

        print(f"{fault}: remote frames again after (gp, patient) ms:", recovered)
        for page in pages:
            print(await page.evaluate("() => window.__labPeers.map((pc) => pc.iceConnectionState)"))
        print("candidate pairs after:", await selected_pair(gp), await selected_pair(patient))
        assert None not in recovered, "remote frames never flowed again"
        for page in pages:
            assert_media_flows(await remote_media(page))
        if fault is Fault.ADDRESS_CHANGE:
            pair = await selected_pair(gp)
            assert pair is not None and pair["remoteAddress"] != patient_site.public_address
            assert moved.public_address != patient_site.public_address
