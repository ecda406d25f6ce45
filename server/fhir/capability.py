"""The facade's CapabilityStatement (`GET /fhir/metadata`): what a FHIR client may ask."""

from __future__ import annotations

from server.fhir.outcome import CONTENT_TYPE
from server.fhir.references import Resource

RELEASED = "2026-11-26"


def _read(resource_type: str) -> Resource:
    return {"type": resource_type, "interaction": [{"code": "read"}]}


def capability_statement(base_url: str) -> Resource:
    document_reference = _read("DocumentReference")
    document_reference["interaction"].append({"code": "search-type"})
    document_reference["searchParam"] = [{"name": "encounter", "type": "reference"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "kind": "instance",
        "implementation": {"description": "almenvideo FHIR facade (read-only)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": [CONTENT_TYPE],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "The LPS vendor's API key as 'Authorization: Bearer avk_…'; "
                    "a vendor reads only its own clinics' consultations."
                },
                "resource": [_read("Appointment"), _read("Encounter"), document_reference],
            }
        ],
    }
