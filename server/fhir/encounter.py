"""A consultation as a FHIR R4 Encounter: class VR (virtual), the call's own times, the
billing code (ydelsesnummer) once it ended, and the clinic as the service provider."""

from __future__ import annotations

from server.clock import iso_local
from server.fhir import references, systems
from server.fhir.references import Resource
from server.store.clinics import Clinic
from server.store.consultations import Consultation, Status
from server.store.users import User

STATUS = {
    Status.BOOKED: "planned",
    Status.WAITING: "arrived",
    Status.IN_CALL: "in-progress",
    Status.ENDED: "finished",
    Status.CANCELLED: "cancelled",
}

VIRTUAL = {"system": systems.ACT_CODE, "code": "VR", "display": "virtual"}


def encounter(c: Consultation, clinic: Clinic, gp: User | None) -> Resource:
    resource: Resource = {
        "resourceType": "Encounter",
        "id": c.id,
        "status": STATUS[c.status],
        "class": VIRTUAL,
        "serviceType": references.service_type(c),
        "subject": references.patient(c),
        "appointment": [{"reference": f"Appointment/{c.id}"}],
        "serviceProvider": references.organisation(clinic),
    }
    if gp is not None:
        resource["participant"] = [{"individual": references.practitioner(gp)}]
    if c.started_at is not None:
        period = {"start": iso_local(c.started_at)}
        if c.ended_at is not None:
            period["end"] = iso_local(c.ended_at)
        resource["period"] = period
    if c.billing_code:
        resource["extension"] = [
            {
                "url": systems.BILLING_CODE,
                "valueCoding": {"system": systems.YDELSESNUMMER, "code": c.billing_code},
            }
        ]
    return resource
