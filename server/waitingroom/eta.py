"""How long a waiting patient should expect to wait, and what they are told.

The clinic's pace is the median length of its recent consultations, shared among the GPs
who have the console open. A scheduled patient is never told to expect the doctor before
their appointment time.

A scheduled patient who comes early is told their appointment time, not a place: drop-ins
who arrive before it queue ahead of them (they queue by arrival, the booked patient by
appointment), so a place shown then would only go backwards. From the appointment time on,
the place and the wait always agree: next in line waits "short", anyone behind waits at
least a minute per patient ahead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class WaitingView:
    """What a waiting patient's screen says: an appointment still ahead, or a place and wait."""

    position: int  # 1 is next
    eta_minutes: int
    appointment_at: float | None  # set while the appointment is still ahead; then no place


def waiting_view(
    position: int, per_patient: float, scheduled_start: float | None, at: float
) -> WaitingView:
    ahead = position - 1
    if scheduled_start is not None and scheduled_start > at:
        wait = eta_minutes(ahead, per_patient, scheduled_start, at)
        return WaitingView(position, wait, scheduled_start)
    return WaitingView(position, max(ahead, eta_minutes(ahead, per_patient, None, at)), None)


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
