"""The clinic's availability from Redis: its video hours and absences, through the pure rules."""

from __future__ import annotations

from server.store.absences import list_absences
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.waitingroom.availability import Availability, availability


async def clinic_availability(redis: Redis, clinic: Clinic, at: float) -> Availability:
    return availability(clinic.dropin_hours, await list_absences(redis, clinic.id), at)
