"""How long a waiting patient should expect to wait.

The clinic's pace is the median length of its recent consultations, shared among the GPs
who have the console open. A scheduled patient is never told to expect the doctor before
their appointment time.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

from server.clock import now
from server.store import keys
from server.store.connection import Redis

DEFAULT_CONSULTATION_SECONDS = 10 * 60
RECENT = 20
GP_ONLINE_SECONDS = 30


def seconds_per_patient(recent_durations: list[float], gps_online: int) -> float:
    typical = (
        statistics.median(recent_durations) if recent_durations else DEFAULT_CONSULTATION_SECONDS
    )
    return typical / max(1, gps_online)


def eta_minutes(ahead: int, per_patient: float, scheduled_start: float | None, at: float) -> int:
    wait = ahead * per_patient
    if scheduled_start is not None:
        wait = max(wait, scheduled_start - at)
    return max(0, math.ceil(wait / 60))


async def record_duration(redis: Redis, clinic_id: str, seconds: float) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(keys.clinic_durations(clinic_id), f"{seconds:.0f}")
        pipe.ltrim(keys.clinic_durations(clinic_id), 0, RECENT - 1)
        await pipe.execute()


async def gp_seen(redis: Redis, clinic_id: str, user_id: str) -> None:
    await gps_seen(redis, [(clinic_id, user_id)])


async def gps_seen(redis: Redis, gps: Iterable[tuple[str, str]]) -> None:
    """Mark these (clinic id, GP user id) pairs as having the console open now."""
    at = now()
    async with redis.pipeline(transaction=False) as pipe:
        for clinic_id, user_id in gps:
            pipe.zadd(keys.clinic_gps_online(clinic_id), {user_id: at})
        await pipe.execute()


async def clinic_pace(redis: Redis, clinic_id: str) -> float:
    """Seconds per waiting patient for the clinic right now."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lrange(keys.clinic_durations(clinic_id), 0, -1)
        pipe.zcount(keys.clinic_gps_online(clinic_id), now() - GP_ONLINE_SECONDS, "+inf")
        durations, online = await pipe.execute()
    return seconds_per_patient([float(d) for d in durations], int(online))
