"""The clinic's availability from Redis: its video hours and absences, through the pure rules."""

from __future__ import annotations

from server.clock import now
from server.store.absences import list_absences
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.consultations import Consultation, Status
from server.waitingroom.availability import Availability, availability


async def clinic_availability(redis: Redis, clinic: Clinic, at: float) -> Availability:
    return availability(clinic.dropin_hours, await list_absences(redis, clinic.id), at)


async def absence_stops_queueing(
    redis: Redis, clinic: Clinic, c: Consultation
) -> Availability | None:
    """The absence in force when it keeps this patient out of the queue, else None.
    A call already running, or a consultation already over, is never cut off."""
    if c.status in (Status.ENDED, Status.IN_CALL):
        return None
    state = await clinic_availability(redis, clinic, now())
    return state if state.absent else None
