"""Real calls between two homes of the lab: Chromium in each home namespace, the app, Redis
and coturn on the lab's internet. Media must flow both ways, and the candidate pair that
carries it must be the one the network allows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.network.chromium import selected_pair
from tests.network.deployment import Deployment
from tests.network.lab import Firewall, Lab, Nat, Site
from tests.network.labcall import admitted_call

expect.set_options(timeout=20_000)


async def call(
    lab: Lab, deployment: Deployment, gp_site: Site, patient_site: Site
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A GP admits a patient; returns the pair each side's call is carried by."""
    async with admitted_call(lab, deployment, gp_site, patient_site) as (gp, patient):
        pairs = await selected_pair(gp), await selected_pair(patient)
        print("candidate pairs (gp, patient):", *pairs)
        return pairs


@pytest.mark.e2e
async def test_two_home_routers_connect_directly(lab: Lab, deployment: Deployment) -> None:
    gp = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient = lab.site("patient", Nat.DOUBLE)

    gp_pair, patient_pair = await call(lab, deployment, gp, patient)

    assert gp_pair is not None and patient_pair is not None
    assert gp_pair["local"] != "relay" and patient_pair["local"] != "relay"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("firewall", "relay_protocols"),
    [(Firewall.UDP_BLOCKED, {"tcp", "tls"}), (Firewall.TCP443_ONLY, {"tls"})],
)
async def test_a_patient_behind_a_strict_firewall_is_relayed(
    lab: Lab, deployment: Deployment, firewall: Firewall, relay_protocols: set[str]
) -> None:
    gp = lab.site("gp", Nat.ENDPOINT_INDEPENDENT)
    patient = lab.site("patient", Nat.SYMMETRIC, firewall)

    gp_pair, patient_pair = await call(lab, deployment, gp, patient)

    assert gp_pair is not None and patient_pair is not None
    assert patient_pair["local"] == "relay"
    assert patient_pair["relayProtocol"] in relay_protocols
    assert patient.dropped() > 0
