"""A clinic's absences (holiday, course, other): when, and which clinic stands in meanwhile.

Start and end are UTC epoch seconds; the end is exclusive. An absence that has ended is of
no further use, so it is dropped the next time the clinic's list changes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from server.auth.tokens import new_id
from server.store import keys
from server.store.connection import Redis

HOLIDAY = "holiday"
COURSE = "course"
OTHER = "other"
KINDS = (HOLIDAY, COURSE, OTHER)


@dataclass(frozen=True)
class Substitute:
    """The clinic that takes the patients meanwhile; patients are told to call it."""

    name: str
    phone: str


@dataclass(frozen=True)
class Absence:
    id: str
    clinic_id: str
    kind: str
    start: float
    end: float
    substitute: Substitute

    def covers(self, at: float) -> bool:
        return self.start <= at < self.end

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Absence:
        d = json.loads(raw)
        return cls(
            d["id"], d["clinic_id"], d["kind"], float(d["start"]), float(d["end"]),
            Substitute(**d["substitute"]),
        )  # fmt: skip


async def add_absence(
    redis: Redis,
    clinic_id: str,
    kind: str,
    start: float,
    end: float,
    substitute: Substitute,
    at: float,
) -> Absence:
    """Record an absence; `at` (now) is when ended absences are dropped from the list."""
    if kind not in KINDS:
        raise ValueError(f"unknown absence kind {kind!r}")
    if not start < end:
        raise ValueError("an absence must end after it starts")
    absence = Absence(new_id(), clinic_id, kind, start, end, substitute)
    ended = [a.id for a in await list_absences(redis, clinic_id) if a.end <= at]
    async with redis.pipeline(transaction=True) as pipe:
        if ended:
            pipe.hdel(keys.clinic_absences(clinic_id), *ended)
        pipe.hset(keys.clinic_absences(clinic_id), absence.id, absence.to_json())
        await pipe.execute()
    return absence


async def list_absences(redis: Redis, clinic_id: str) -> list[Absence]:
    """The clinic's absences, earliest first."""
    rows = await redis.hvals(keys.clinic_absences(clinic_id))
    return sorted((Absence.from_json(raw) for raw in rows), key=lambda a: (a.start, a.end, a.id))


async def remove_absence(redis: Redis, clinic_id: str, absence_id: str) -> bool:
    """Remove one of this clinic's absences; False if the clinic has no such absence."""
    return bool(await redis.hdel(keys.clinic_absences(clinic_id), absence_id))
