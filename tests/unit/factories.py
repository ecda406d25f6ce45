"""Making clinics, consultations and waiting patients in a real Redis, the way the app does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from server.clock import now
from server.consultations.links import issue_link
from server.signalling.redisrouter import RedisRouter
from server.store.clinics import Clinic, create_clinic
from server.store.connection import Redis
from server.store.consultations import (
    Consultation,
    Kind,
    create_consultation,
    update_consultation,
)
from server.store.participants import Participant, SeatRole, create_participant
from server.waitingroom.room import Room

_ydernumre = itertools.count(100001)

PATIENT_NAME = "Karen Ærø Jensen"


def room_of(redis: Redis) -> Room:
    """The room over a real router (publishing only: nobody listens in unit tests)."""
    return Room(redis, RedisRouter(redis, "av:ch:instance:tests"))


async def no_seat(c: Consultation) -> None:
    """An admit's `take_seat` when no GP socket is there to take it."""


async def make_clinic(redis: Redis, name: str = "Lægehuset Åbyhøj") -> Clinic:
    return await create_clinic(redis, name, str(next(_ydernumre)), "+45 86 15 00 00")


async def make_scheduled(
    redis: Redis, clinic: Clinic, minutes_from_now: float = 5, **fields: object
) -> Consultation:
    start = float(int(now() + minutes_from_now * 60))
    return await create_consultation(
        redis,
        clinic.id,
        Kind.SCHEDULED,
        scheduled_start=start,
        **fields,  # type: ignore[arg-type]
    )


async def make_drop_in(redis: Redis, clinic: Clinic) -> Consultation:
    return await create_consultation(redis, clinic.id, Kind.DROP_IN)


async def with_link(redis: Redis, c: Consultation) -> tuple[str, Consultation]:
    return await issue_link(redis, c)


@dataclass(frozen=True)
class Waiter:
    consultation: Consultation
    patient: Participant


async def seat_patient(redis: Redis, c: Consultation, name: str = PATIENT_NAME) -> Waiter:
    """Give the consultation a patient participant, as joining by link does."""
    p = await create_participant(redis, c.id, SeatRole.PATIENT, name)
    c = await update_consultation(redis, c, patient_participant=p.id, patient_name=name)
    return Waiter(c, p)


async def waiting_patient(redis: Redis, c: Consultation, name: str = PATIENT_NAME) -> Waiter:
    w = await seat_patient(redis, c, name)
    fresh = await room_of(redis).enter(w.consultation)
    assert fresh is not None
    return Waiter(fresh, w.patient)
