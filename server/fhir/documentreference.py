"""A consultation's note as a FHIR R4 DocumentReference.

`docStatus` is `preliminary` while the note is a draft and `final` once the GP approved it.
An AI draft carries HL7's label for AI-asserted data (v3 ObservationValue `AIAST`, as the
AI Transparency on FHIR guide has it) in `meta.security` and `meta.tag`, until the GP
approves it: from then on it is the GP's note, and the GP is its author and authenticator.

The consent the note-taker ran under travels with the note: the latest answer as a
contained FHIR `Consent` (`#consent`: status, when, which consent text version as its
policy, in which language and how it was given), referenced from `context.related`, so
the LPS files the proof with the note it covers.
"""

from __future__ import annotations

import base64

from server.clock import iso_local
from server.fhir import references, systems
from server.fhir.references import Resource
from server.store.consultations import Consultation
from server.store.notes import DRAFT, Note
from server.store.notetaker import ConsentRecord
from server.store.users import User

CONSENT_POLICY = "https://almenvideo.dk/consent/notetaker"
_CONSENT_STATUS = {"given": "active", "declined": "rejected", "withdrawn": "inactive"}

PROGRESS_NOTE = {"system": systems.LOINC, "code": "11506-3", "display": "Progress note"}
AI_ASSERTED = {
    "system": systems.OBSERVATION_VALUE,
    "code": "AIAST",
    "display": "Artificial Intelligence asserted",
}


def consent_resource(record: ConsentRecord, c: Consultation) -> Resource:
    """The note-taker consent as FHIR R4 `Consent` (to be contained as `#consent`)."""
    return {
        "resourceType": "Consent",
        "id": "consent",
        "status": _CONSENT_STATUS.get(record.answer, "inactive"),
        "scope": {"coding": [{"system": systems.CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [
            {"coding": [{"system": systems.LOINC, "code": "59284-0", "display": "Consent"}]}
        ],
        "patient": references.patient(c),
        "dateTime": iso_local(record.at),
        "policy": [{"uri": f"{CONSENT_POLICY}/{record.text_version}"}],
        "sourceAttachment": {
            "language": record.language,
            "title": f"{record.answer} by {record.role}: {record.how}",
            "creation": iso_local(record.at),
        },
    }


def document_reference(
    note: Note,
    c: Consultation,
    approver: User | None,
    consent: ConsentRecord | None = None,
) -> Resource:
    draft = note.status == DRAFT
    updated = iso_local(note.approved_at if note.approved_at is not None else note.created_at)
    meta: Resource = {"lastUpdated": updated}
    if draft and note.ai_generated:
        meta["tag"] = [AI_ASSERTED]
        meta["security"] = [AI_ASSERTED]
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": c.id,
        "meta": meta,
        "status": "current",
        "docStatus": "preliminary" if draft else "final",
        "type": {"coding": [PROGRESS_NOTE]},
        "subject": references.patient(c),
        "date": updated,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(note.text.encode()).decode("ascii"),
                    "title": "Konsultationsnotat",
                    "creation": iso_local(note.created_at),
                }
            }
        ],
        "context": {"encounter": [{"reference": f"Encounter/{c.id}"}]},
    }
    if consent is not None:
        resource["contained"] = [consent_resource(consent, c)]
        resource["context"]["related"] = [{"reference": "#consent"}]
    if not draft and approver is not None:
        resource["author"] = [references.practitioner(approver)]
        resource["authenticator"] = references.practitioner(approver)
    elif note.ai_generated:
        resource["author"] = [{"type": "Device", "display": f"note-taker {note.engine}".strip()}]
    return resource
