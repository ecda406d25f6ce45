"""Telling everyone about a clinic's queue after it changed: the GPs get the whole picture,
each waiting patient gets only their own place."""

from __future__ import annotations

from server.clock import local_day, now
from server.signalling.messages import ClinicState, DayEntry, QueueEntry, Waiting, dump
from server.signalling.router import Router
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation, consultations_on_day, get_consultation
from server.waitingroom.queue import positions, waiting_ids


async def _waiting(redis: Redis, clinic_id: str) -> list[Consultation]:
    found = [await get_consultation(redis, cid) for cid in await waiting_ids(redis, clinic_id)]
    return [c for c in found if c is not None]


async def _queue_entry(redis: Redis, c: Consultation) -> QueueEntry:
    connected = bool(
        c.patient_participant and await redis.exists(keys.presence(c.patient_participant))
    )
    return QueueEntry(
        consultation_id=c.id,
        patient_name=c.patient_name,
        kind=c.kind,  # type: ignore[arg-type]
        scheduled_start=c.scheduled_start,
        waiting_since=c.waiting_since,
        connected=connected,
    )


def _day_entry(c: Consultation) -> DayEntry:
    return DayEntry(
        consultation_id=c.id,
        patient_name=c.patient_name,
        kind=c.kind,  # type: ignore[arg-type]
        scheduled_start=c.scheduled_start,
        status=c.status,
        billing_code=c.billing_code,
    )


async def clinic_state(redis: Redis, clinic_id: str) -> ClinicState:
    state, _ = await _clinic_state(redis, clinic_id)
    return state


async def _clinic_state(redis: Redis, clinic_id: str) -> tuple[ClinicState, list[Consultation]]:
    waiting = await _waiting(redis, clinic_id)
    today = await consultations_on_day(redis, clinic_id, local_day(now()))
    state = ClinicState(
        waiting=[await _queue_entry(redis, c) for c in waiting],
        today=[_day_entry(c) for c in today],
        server_time=now(),
    )
    return state, waiting


async def publish_clinic_state(redis: Redis, router: Router, clinic_id: str) -> None:
    state, waiting = await _clinic_state(redis, clinic_id)
    await router.publish(keys.clinic_channel(clinic_id), dump(state))
    places = positions([c.id for c in waiting])
    for c in waiting:
        if c.patient_participant:
            place = places[c.id]
            await router.publish(
                keys.participant_channel(c.patient_participant),
                dump(Waiting(position=place.place, total=place.total)),
            )
