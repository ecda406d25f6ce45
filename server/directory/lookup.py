"""A professional looks up one clinic: its facts, whether it is open now, and an audit entry
saying who looked, from which organisation, at which clinic, through which channel."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.clock import now
from server.directory.openness import Openness, openness
from server.directory.publicholidays import public_holidays
from server.store.absences import list_absences
from server.store.audit import audit
from server.store.clinics import Clinic, find_clinic
from server.store.connection import Redis

VIEWED = "directory.viewed"
_YDERNUMMER = re.compile(r"^[0-9]{1,10}$")


@dataclass(frozen=True)
class Entry:
    clinic: Clinic
    openness: Openness
    at: float  # the moment `openness` describes


async def look_up(
    redis: Redis,
    ydernummer: str,
    *,
    actor: str,
    organisation_id: str,
    channel: str,
    lang: str = "da",
) -> Entry | None:
    """The clinic's entry, or None for an unknown ydernummer (nothing seen, nothing audited).
    `actor` is "user:<id>" or "organisation:<id>"; `channel` is "web" or "api"."""
    if not _YDERNUMMER.match(ydernummer):
        return None
    clinic = await find_clinic(redis, ydernummer)
    if clinic is None:
        return None
    at = now()
    absences = await list_absences(redis, clinic.id)
    state = openness(clinic.opening_hours, absences, at, public_holidays(lang))
    await audit(
        redis,
        VIEWED,
        actor,
        organisation_id=organisation_id,
        clinic_id=clinic.id,
        ydernummer=clinic.ydernummer,
        channel=channel,
    )
    return Entry(clinic, state, at)
