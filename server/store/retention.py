"""What the retention job needs in Redis: clinics' cancellations, their last access and
inactivity warnings, the day the note-taker pilot ended, and the job's lock."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from server.store import decoded, keys
from server.store.connection import Redis


@dataclass(frozen=True)
class Cancellation:
    clinic_id: str
    cancelled_on: str  # ISO day (Copenhagen) the clinic's subscription ends
    delete_after: float  # unix s: the notice period ends
    reason: str  # "cancelled" (an admin recorded it) or "inactive" (12 months unused)
    recorded_at: float
    recorded_by: str  # audit actor
    # Filled in when the clinic's data is deleted: what invoicing still needs.
    deleted_at: float | None = None
    name: str = ""
    ydernummer: str = ""


async def save_cancellation(redis: Redis, c: Cancellation) -> None:
    await redis.hset(keys.CLINIC_CANCELLATIONS, c.clinic_id, json.dumps(asdict(c)))


async def withdraw_cancellation(redis: Redis, clinic_id: str) -> bool:
    """Only before the data is deleted; returns whether there was one to withdraw."""
    found = await get_cancellation(redis, clinic_id)
    if found is None or found.deleted_at is not None:
        return False
    await redis.hdel(keys.CLINIC_CANCELLATIONS, clinic_id)
    return True


async def get_cancellation(redis: Redis, clinic_id: str) -> Cancellation | None:
    raw = decoded.text(await redis.hget(keys.CLINIC_CANCELLATIONS, clinic_id))
    return Cancellation(**json.loads(raw)) if raw else None


async def cancellations(redis: Redis) -> list[Cancellation]:
    rows = decoded.fields(await redis.hgetall(keys.CLINIC_CANCELLATIONS))
    found = [Cancellation(**json.loads(v)) for v in rows.values()]
    return sorted(found, key=lambda c: (c.cancelled_on, c.clinic_id))


async def record_access(redis: Redis, clinic_id: str, at: float) -> None:
    """Someone of the clinic logged in, or the API was used for it: it is not silent."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.CLINIC_LAST_ACCESS, clinic_id, repr(at))
        pipe.hdel(keys.CLINIC_INACTIVITY_WARNINGS, clinic_id)
        await pipe.execute()


async def last_access(redis: Redis) -> dict[str, float]:
    rows = decoded.fields(await redis.hgetall(keys.CLINIC_LAST_ACCESS))
    return {clinic_id: float(at) for clinic_id, at in rows.items()}


async def start_counting(redis: Redis, clinic_id: str, at: float) -> None:
    """A clinic with no access recorded yet (older than the rule) counts from `at`."""
    await redis.hsetnx(keys.CLINIC_LAST_ACCESS, clinic_id, repr(at))


async def warn_inactive(redis: Redis, clinic_id: str, at: float) -> bool:
    """Returns whether this is a new warning."""
    return bool(await redis.hsetnx(keys.CLINIC_INACTIVITY_WARNINGS, clinic_id, repr(at)))


async def inactivity_warnings(redis: Redis) -> dict[str, float]:
    rows = decoded.fields(await redis.hgetall(keys.CLINIC_INACTIVITY_WARNINGS))
    return {clinic_id: float(at) for clinic_id, at in rows.items()}


async def set_pilot_ended(redis: Redis, day: str) -> None:
    await redis.set(keys.PILOT_NOTETAKER_ENDED, day)


async def pilot_ended(redis: Redis) -> str | None:
    return decoded.text(await redis.get(keys.PILOT_NOTETAKER_ENDED))


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


async def take_lock(redis: Redis, holder: str, ttl_seconds: int) -> bool:
    """One retention job at a time across instances; the TTL frees a crashed holder's."""
    return bool(await redis.set(keys.RETENTION_LOCK, holder, nx=True, ex=ttl_seconds))


async def release_lock(redis: Redis, holder: str) -> None:
    """Only the holder's own lock: one that expired and was taken by another stays."""
    await redis.register_script(_RELEASE)(keys=[keys.RETENTION_LOCK], args=[holder])
