"""A clinic's queue as it stands, and its patients' presence (the moves are the room's).

A queue entry's key is (score, consultation id): scheduled patients score their appointment
time, drop-ins their arrival, a patient put back on hold scores just ahead of everyone.
Redis orders equal scores by member, so the key orders exactly as the sorted set does.
"""

from __future__ import annotations

import asyncio
from typing import cast

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation

QueueKey = tuple[float, str]


async def rank(redis: Redis, c: Consultation) -> int | None:
    """0-based place in the queue, or None if not waiting."""
    # redis-py types ZRANK's reply as if WITHSCORE might have been asked for.
    return cast("int | None", await redis.zrank(keys.clinic_queue(c.clinic_id), c.id))


async def score_of(redis: Redis, c: Consultation) -> float | None:
    score = await redis.zscore(keys.clinic_queue(c.clinic_id), c.id)
    return None if score is None else float(score)


async def waiting_ids(redis: Redis, clinic_id: str) -> list[str]:
    return decoded.strings(await redis.zrange(keys.clinic_queue(clinic_id), 0, -1))


async def heartbeat(redis: Redis, participant_id: str, presence_ttl: int) -> None:
    await heartbeat_many(redis, [participant_id], presence_ttl)


HEARTBEAT_CHUNK = 500


async def heartbeat_many(redis: Redis, participant_ids: list[str], presence_ttl: int) -> None:
    """Mark these waiting patients present: one round trip per chunk, yielding between
    chunks so that thousands of patients never hold up an admit for long."""
    at = now()
    for start in range(0, len(participant_ids), HEARTBEAT_CHUNK):
        chunk = participant_ids[start : start + HEARTBEAT_CHUNK]
        async with redis.pipeline(transaction=False) as pipe:
            for participant_id in chunk:
                pipe.set(keys.presence(participant_id), "1", ex=presence_ttl)
            pipe.zadd(keys.WAITING_LAST_SEEN, dict.fromkeys(chunk, at))
            await pipe.execute()
        await asyncio.sleep(0)


async def departed(redis: Redis, participant_id: str) -> None:
    """The browser closed its socket: not present, and the grace period starts now."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(keys.presence(participant_id))
        pipe.zadd(keys.WAITING_LAST_SEEN, {participant_id: now()}, xx=True)
        await pipe.execute()


async def forget_presence(redis: Redis, participant_id: str) -> None:
    await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)


async def vanished(redis: Redis, grace_seconds: int) -> list[Consultation]:
    """Consultations of waiting patients whose browsers have been silent for longer than
    the grace (the room takes them out of the queue)."""
    cutoff = now() - grace_seconds
    stale = decoded.strings(await redis.zrangebyscore(keys.WAITING_LAST_SEEN, 0, cutoff))
    gone: list[Consultation] = []
    for participant_id in stale:
        await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)
        if await redis.exists(keys.presence(participant_id)):
            continue
        consultation_id = decoded.text(
            await redis.hget(keys.participant(participant_id), "consultation_id")
        )
        c = await get_consultation(redis, consultation_id) if consultation_id else None
        if c is not None:
            gone.append(c)
    return gone
