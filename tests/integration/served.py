"""An LPS vendor serving one clinic, with a GP and a booked consultation, and its API key."""

from __future__ import annotations

from dataclasses import dataclass

from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.users import User
from server.store.vendors import create_vendor, issue_api_key
from tests.integration.helpers import make_gp
from tests.unit.factories import make_clinic, make_scheduled


@dataclass(frozen=True)
class Served:
    clinic: Clinic
    gp: User
    consultation: Consultation
    auth: dict[str, str]  # the vendor's Authorization header


async def served_consultation(redis: Redis, **fields: object) -> Served:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    vendor = await create_vendor(redis, "Test-LPS", [clinic.id])
    key = await issue_api_key(redis, vendor.id)
    c = await make_scheduled(
        redis, clinic, 30, practitioner_id=gp.id, patient_ref="pt-77",
        patient_name="Karen Jensen", vendor_id=vendor.id, external_id="lps-1", **fields,
    )  # fmt: skip
    return Served(clinic, gp, c, {"Authorization": f"Bearer {key}"})
