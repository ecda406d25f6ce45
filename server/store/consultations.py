"""Consultation aggregate: one booked or drop-in video contact between a clinic and a patient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import TypedDict, Unpack

from server.auth.tokens import new_id
from server.clock import local_day, now
from server.store import decoded, keys
from server.store.connection import Redis


class Kind(StrEnum):
    SCHEDULED = "scheduled"
    DROP_IN = "drop_in"


class Status(StrEnum):
    """Where the patient stands; the moves between them are the room's
    (server/waitingroom/room.py)."""

    BOOKED = "booked"
    WAITING = "waiting"
    IN_CALL = "in_call"
    ENDED = "ended"
    CANCELLED = "cancelled"


# Keep consultation records for the day's list and audits, then let Redis drop them.
RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Consultation:
    id: str
    clinic_id: str
    kind: Kind
    status: Status
    created_at: float
    scheduled_start: float | None = None
    duration_minutes: int = 15
    practitioner_id: str = ""
    patient_ref: str = ""  # pseudonymous reference from the LPS; never a CPR number
    patient_name: str = ""  # what the patient typed
    link_hash: str = ""
    patient_participant: str = ""
    gp_participant: str = ""
    waiting_since: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    billing_code: str = ""
    peak_parties: int = 0  # most parties connected in the call at the same time
    media_at: float | None = None  # first media between the GP and the patient (call.report)
    video_trouble: str = ""  # first sign that video failed: a reported failure or an ICE restart
    precall_verdict: str = ""  # the patient's last line test: good | may_struggle | will_not_work
    precall_at: float | None = None
    # Booked through the LPS API: by which vendor, its booking id, and what for.
    vendor_id: str = ""
    external_id: str = ""
    purpose: str = "video"  # video | cross_sector
    patient_phone: str = ""
    cpr_hash: str = ""  # keyed hash of a CPR number the LPS sent; the number itself is never kept

    @property
    def queue_score(self) -> float:
        """Scheduled patients queue by appointment time, drop-ins by arrival."""
        if self.scheduled_start is not None:
            return self.scheduled_start
        return self.waiting_since if self.waiting_since is not None else self.created_at

    @property
    def day(self) -> str:
        return local_day(
            self.scheduled_start if self.scheduled_start is not None else self.created_at
        )

    def to_hash(self) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> Consultation:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = h.get(f.name, "")
            if f.type in ("float | None",):
                values[f.name] = float(raw) if raw else None
            elif f.type == "float":
                values[f.name] = float(raw)
            elif f.type == "int":
                values[f.name] = int(raw) if raw else f.default
            elif f.type in _ENUMS:
                values[f.name] = _ENUMS[f.type](raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]  # each field parsed by its type


_ENUMS: dict[str, type[StrEnum]] = {"Kind": Kind, "Status": Status}


class Booking(TypedDict, total=False):
    """What the LPS sends with a booking."""

    vendor_id: str
    external_id: str
    purpose: str
    patient_phone: str
    cpr_hash: str


async def create_consultation(
    redis: Redis,
    clinic_id: str,
    kind: Kind,
    scheduled_start: float | None = None,
    duration_minutes: int = 15,
    practitioner_id: str = "",
    patient_ref: str = "",
    patient_name: str = "",
    **booking: Unpack[Booking],
) -> Consultation:
    """A new consultation; `booking` carries the LPS fields (vendor_id, external_id, ...)."""
    c = Consultation(
        id=new_id(),
        clinic_id=clinic_id,
        kind=kind,
        status=Status.BOOKED,
        created_at=now(),
        scheduled_start=scheduled_start,
        duration_minutes=duration_minutes,
        practitioner_id=practitioner_id,
        patient_ref=patient_ref,
        patient_name=patient_name,
        **booking,
    )
    key = keys.consultation(c.id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=decoded.writable(c.to_hash()))
        pipe.expire(key, RETENTION_SECONDS)
        pipe.zadd(keys.clinic_day(clinic_id, c.day), {c.id: c.queue_score})
        pipe.expire(keys.clinic_day(clinic_id, c.day), RETENTION_SECONDS)
        await pipe.execute()
    return c


async def get_consultation(redis: Redis, consultation_id: str) -> Consultation | None:
    h = decoded.fields(await redis.hgetall(keys.consultation(consultation_id)))
    return Consultation.from_hash(h) if h else None


async def update_consultation(redis: Redis, c: Consultation, **changes: object) -> Consultation:
    updated = replace(c, **changes)  # type: ignore[arg-type]  # any fields, by name
    mapping = {k: v for k, v in updated.to_hash().items() if k in changes}
    await redis.hset(keys.consultation(c.id), mapping=decoded.writable(mapping))
    return updated


async def reschedule(
    redis: Redis, c: Consultation, scheduled_start: float, duration_minutes: int
) -> Consultation:
    """Move a booked consultation; it moves between the clinic's day lists too."""
    moved = replace(c, scheduled_start=scheduled_start, duration_minutes=duration_minutes)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(keys.clinic_day(c.clinic_id, c.day), c.id)
        pipe.hset(
            keys.consultation(c.id),
            mapping={
                "scheduled_start": str(scheduled_start),
                "duration_minutes": str(duration_minutes),
            },
        )
        pipe.zadd(keys.clinic_day(c.clinic_id, moved.day), {c.id: moved.queue_score})
        pipe.expire(keys.clinic_day(c.clinic_id, moved.day), RETENTION_SECONDS)
        await pipe.execute()
    return moved


async def consultations_on_day(
    redis: Redis, clinic_id: str, day: str, only: Sequence[str] = ()
) -> list[Consultation]:
    ids = decoded.strings(await redis.zrange(keys.clinic_day(clinic_id, day), 0, -1))
    return await consultations(redis, ids, only)


async def practitioners_on_day(
    redis: Redis, clinic_id: str, day: str
) -> list[tuple[str, str, str]]:
    """(id, status, practitioner id) of each of the day's consultations, in one round trip
    and without reading every hash whole: what a GP's hello looks through for a call the GP
    holds, in a clinic with hundreds of consultations a day."""
    ids = decoded.strings(await redis.zrange(keys.clinic_day(clinic_id, day), 0, -1))
    async with redis.pipeline(transaction=False) as pipe:
        for cid in ids:
            pipe.hmget(keys.consultation(cid), ["status", "practitioner_id"])
        rows = await pipe.execute()
    return [(cid, row[0], row[1] or "") for cid, row in zip(ids, rows, strict=True) if row[0]]


# What every partial read (`only`) must include, for a Consultation to be made of it.
PARTIAL_REQUIRED = ("id", "clinic_id", "kind", "status", "created_at")


async def consultations(
    redis: Redis, ids: list[str], only: Sequence[str] = ()
) -> list[Consultation]:
    """These consultations in one round trip, in their order; those gone are left out.
    With `only` (which must include PARTIAL_REQUIRED), just those fields are read and the
    others keep their defaults: a console's snapshot of a long day needs a third of each
    hash, and reading them whole is most of its cost."""
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for cid in ids:
            if only:
                pipe.hmget(keys.consultation(cid), list(only))
            else:
                pipe.hgetall(keys.consultation(cid))
        rows = await pipe.execute()
    if only:
        rows = [{f: v for f, v in zip(only, row, strict=True) if v is not None} for row in rows]
    return [Consultation.from_hash(h) for h in rows if h]
