"""Messages the clinic sends a waiting patient: kept with the consultation so a reload
shows them again, and dropped with it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from server.clock import now
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import RETENTION_SECONDS

KEEP = 10


@dataclass(frozen=True)
class ClinicNote:
    """One message, as the patient's screen shows it."""

    text: str
    at: float


async def add_clinic_message(redis: Redis, consultation_id: str, text: str) -> ClinicNote:
    note = ClinicNote(text=text, at=now())
    key = keys.consultation_messages(consultation_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(asdict(note), ensure_ascii=False, separators=(",", ":")))
        pipe.ltrim(key, -KEEP, -1)
        pipe.expire(key, RETENTION_SECONDS)
        await pipe.execute()
    return note


def parse_clinic_message(row: str | bytes | None) -> ClinicNote | None:
    """The newest message (LINDEX -1 of the list), for the trace on the GPs' card."""
    return ClinicNote(**json.loads(row)) if row else None


async def clinic_messages(redis: Redis, consultation_id: str) -> list[ClinicNote]:
    rows = await redis.lrange(keys.consultation_messages(consultation_id), 0, -1)
    return [ClinicNote(**json.loads(row)) for row in rows]
