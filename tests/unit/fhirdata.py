"""Consultations, GPs and clinics as the FHIR mapping sees them (plain values, no Redis)."""

from __future__ import annotations

from dataclasses import replace

from server.store.clinics import Clinic
from server.store.consultations import Consultation, Kind, Status
from server.store.users import User

T0 = 1_790_000_000.0  # 2026-09-21, a Monday

CLINIC = Clinic("clinic-1", "Lægehuset Åbyhøj", "123456")
GP = User("user-1", "lise.holm", "Dr. Lise Holm", "gp", CLINIC.id, "scrypt$…")
CPR_HASH = "c0ffee" * 10

ENDED_CALL = Consultation(
    id="0123456789abcdef",
    clinic_id=CLINIC.id,
    kind=Kind.SCHEDULED,
    status=Status.ENDED,
    created_at=T0,
    scheduled_start=T0 + 3600,
    duration_minutes=15,
    practitioner_id=GP.id,
    patient_ref="pt-77",
    patient_name="Karen Jensen",
    started_at=T0 + 3700,
    ended_at=T0 + 4300,
    billing_code="0125",
    vendor_id="vendor-1",
    external_id="lps-booking-9",
    cpr_hash=CPR_HASH,
)


def consultation(**changes: object) -> Consultation:
    return replace(ENDED_CALL, **changes)  # type: ignore[arg-type]
