"""Every code system, identifier namespace and extension URL the facade writes, in one place.

Official ones where they exist: DK Core's ydernummer (`urn:oid:1.2.208.176.1.4`) for the
clinic, and HL7's terminology. Ours (under `https://almenvideo.dk/fhir/`) where none does.

A CPR number would go under DK Core's `urn:oid:1.2.208.176.1.2`, but the facade never writes
one: the platform keeps only a keyed hash of it (server.auth.cprkey), and never shows that.
"""

from __future__ import annotations

from server.store.consultations import Consultation

OURS = "https://almenvideo.dk/fhir"

YDERNUMMER = "urn:oid:1.2.208.176.1.4"  # DK Core Organization.identifier:Ydernummer
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # Encounter.class VR
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"  # ROUTINE, WALKIN
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"  # AIAST
LOINC = "http://loinc.org"
VIRTUAL_SERVICE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService"

VIRTUAL_SERVICE_TYPE = f"{OURS}/virtual-service"  # channelType: video
CONSULTATION_KIND = f"{OURS}/CodeSystem/consultation-kind"  # video | cross_sector
BILLING_CODE = f"{OURS}/StructureDefinition/billing-code"  # extension on Encounter
YDELSESNUMMER = f"{OURS}/CodeSystem/ydelsesnummer"  # 0125, 0126, 0201
PRACTITIONER = f"{OURS}/NamingSystem/username"  # the GP's user name, as the REST API has it
PROBLEM = f"{OURS}/CodeSystem/problem"  # OperationOutcome details: the API's stable codes


def _scope(c: Consultation) -> str:
    """LPS identifiers mean something only to the LPS that sent them."""
    return f"vendor/{c.vendor_id}" if c.vendor_id else f"clinic/{c.clinic_id}"


def patient_ref_system(c: Consultation) -> str:
    """The namespace of the LPS's pseudonymous patient reference."""
    return f"{OURS}/NamingSystem/{_scope(c)}/patient"


def booking_system(c: Consultation) -> str:
    """The namespace of the LPS's booking id (`external_id`)."""
    return f"{OURS}/NamingSystem/{_scope(c)}/booking"


CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
