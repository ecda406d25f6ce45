"""The professionals' lobby: invited professionals waiting to be let into a consultation.

Kept apart from the patients' queue: professionals do not take a place in it, have no ETA,
and are let in by the GP one by one, before or after the patient. One sorted set per
clinic (participant id -> arrival), so the clinic's console sees them all at once.
"""

from __future__ import annotations

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis


async def enter(redis: Redis, clinic_id: str, participant_id: str) -> float:
    """Wait in the lobby (idempotent); returns the arrival time."""
    await redis.zadd(keys.clinic_lobby(clinic_id), {participant_id: now()}, nx=True)
    since = await redis.zscore(keys.clinic_lobby(clinic_id), participant_id)
    return float(since or now())


async def leave(redis: Redis, clinic_id: str, participant_id: str) -> bool:
    """Out of the lobby; True for the one caller that took them out (admit races)."""
    return bool(await redis.zrem(keys.clinic_lobby(clinic_id), participant_id))


async def waiting(redis: Redis, clinic_id: str) -> list[tuple[str, float]]:
    """(participant id, arrival) of everyone in the clinic's lobby, earliest first."""
    rows = decoded.scored(await redis.zrange(keys.clinic_lobby(clinic_id), 0, -1, withscores=True))
    return [(pid, float(since)) for pid, since in rows]
