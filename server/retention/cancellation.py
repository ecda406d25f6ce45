"""Recording a clinic's cancellation: the day it takes effect, and when its data goes."""

from __future__ import annotations

from datetime import date, timedelta

from server.clock import now
from server.retention.job import day_start
from server.retention.table import CANCELLATION_NOTICE_SECONDS
from server.store.audit import audit
from server.store.clinics import find_clinic
from server.store.connection import Redis
from server.store.retention import Cancellation, save_cancellation


async def cancel_clinic(redis: Redis, ydernummer: str, day: str, actor: str) -> Cancellation:
    """Record that the clinic cancels from `day`: its data goes after the notice period."""
    clinic = await find_clinic(redis, ydernummer)
    if clinic is None:
        raise LookupError(f"no clinic with ydernummer {ydernummer}")
    notice_ends = date.fromisoformat(day) + timedelta(seconds=CANCELLATION_NOTICE_SECONDS)
    cancellation = Cancellation(
        clinic.id,
        day,
        day_start(notice_ends.isoformat()),
        "cancelled",
        now(),
        actor,
    )
    await save_cancellation(redis, cancellation)
    await audit(redis, "clinic.cancelled", actor, clinic_id=clinic.id, cancelled_on=day)
    return cancellation
