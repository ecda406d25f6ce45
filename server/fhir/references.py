"""Logical references (by identifier) to the people and the clinic behind a consultation.

The facade serves no Patient, Practitioner or Organization resources: the LPS owns those, so
references carry the identifiers the LPS knows them by."""

from __future__ import annotations

from typing import Any

from server.fhir import systems
from server.store.clinics import Clinic
from server.store.consultations import Consultation
from server.store.users import User

Resource = dict[str, Any]


def patient(c: Consultation) -> Resource:
    reference: Resource = {"type": "Patient"}
    if c.patient_ref:
        reference["identifier"] = {"system": systems.patient_ref_system(c), "value": c.patient_ref}
    if c.patient_name:
        reference["display"] = c.patient_name
    return reference


def practitioner(gp: User) -> Resource:
    return {
        "type": "Practitioner",
        "identifier": {"system": systems.PRACTITIONER, "value": gp.username},
        "display": gp.display_name,
    }


def organisation(clinic: Clinic) -> Resource:
    return {
        "type": "Organization",
        "identifier": {"system": systems.YDERNUMMER, "value": clinic.ydernummer},
        "display": clinic.name,
    }


def service_type(c: Consultation) -> Resource:
    """Video, or a cross-sector video conference."""
    return {"coding": [{"system": systems.CONSULTATION_KIND, "code": c.purpose}]}
