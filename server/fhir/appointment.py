"""A consultation as a FHIR R4 Appointment.

The virtual service (R5's `Appointment.virtualService`, as its R4 cross-version extension)
names the video room by its session key (the consultation id) and gives the clinician's
way in. It cannot give the patient's link: that token is stored only as a hash. The LPS
gets the patient's link once, when it books or asks for a new one (REST API).
"""

from __future__ import annotations

from server.clock import iso_local
from server.fhir import references, systems
from server.fhir.references import Resource
from server.store.consultations import Consultation, Kind, Status
from server.store.users import User

STATUS = {
    Status.BOOKED: "booked",
    Status.WAITING: "arrived",
    Status.IN_CALL: "arrived",  # the Encounter says "in-progress"
    Status.ENDED: "fulfilled",
    Status.CANCELLED: "cancelled",
}


def virtual_service(c: Consultation, clinician_url: str) -> Resource:
    return {
        "url": systems.VIRTUAL_SERVICE,
        "extension": [
            {
                "url": "channelType",
                "valueCoding": {
                    "system": systems.VIRTUAL_SERVICE_TYPE,
                    "code": "video",
                    "display": "almenvideo",
                },
            },
            {"url": "address", "valueUrl": clinician_url},
            {"url": "sessionKey", "valueString": c.id},
        ],
    }


def appointment(c: Consultation, gp: User | None, clinician_url: str) -> Resource:
    # A drop-in has no booked time: it starts when the patient arrived.
    start = c.scheduled_start if c.scheduled_start is not None else c.created_at
    participants = [{"actor": references.patient(c), "status": "accepted"}]
    if gp is not None:
        participants.append({"actor": references.practitioner(gp), "status": "accepted"})
    resource: Resource = {
        "resourceType": "Appointment",
        "id": c.id,
        "extension": [virtual_service(c, clinician_url)],
        "status": STATUS[c.status],
        "serviceType": [references.service_type(c)],
        "appointmentType": {
            "coding": [
                {
                    "system": systems.APPOINTMENT_REASON,
                    "code": "WALKIN" if c.kind == Kind.DROP_IN else "ROUTINE",
                }
            ]
        },
        "start": iso_local(start),
        "end": iso_local(start + c.duration_minutes * 60),
        "minutesDuration": c.duration_minutes,
        "created": iso_local(c.created_at),
        "participant": participants,
    }
    if c.external_id:
        resource["identifier"] = [{"system": systems.booking_system(c), "value": c.external_id}]
    return resource
