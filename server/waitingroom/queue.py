"""Queue transitions, each one atomic in Redis so two GPs or two instances cannot race.

booked --enter--> waiting --admit--> in_call
waiting --leave / vanished--> booked
"""

from __future__ import annotations

from dataclasses import dataclass

from server.clock import now
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation
from server.store.events import append_event

_ENTER = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'waiting' then return 1 end
if status ~= 'booked' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'waiting_since', ARGV[2])
local score = redis.call('HGET', KEYS[1], 'scheduled_start')
if not score or score == '' then score = ARGV[2] end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return 2
"""

_LEAVE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'booked', 'waiting_since', '')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

_ADMIT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'in_call', 'started_at', ARGV[2],
           'practitioner_id', ARGV[3], 'gp_participant', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


def _keys(c: Consultation) -> list[str]:
    return [keys.consultation(c.id), keys.clinic_queue(c.clinic_id)]


async def enter(redis: Redis, c: Consultation) -> bool:
    """Put the patient in the queue (idempotent). False if the consultation cannot queue."""
    result = await redis.register_script(_ENTER)(keys=_keys(c), args=[c.id, now()])
    if result == 2:
        await append_event(redis, "patient.waiting", consultation_id=c.id, clinic_id=c.clinic_id)
    return bool(result)


async def leave(redis: Redis, c: Consultation, reason: str) -> bool:
    left = bool(await redis.register_script(_LEAVE)(keys=_keys(c), args=[c.id]))
    if left:
        await append_event(
            redis, "patient.left", consultation_id=c.id, clinic_id=c.clinic_id, reason=reason
        )
    return left


async def admit(redis: Redis, c: Consultation, gp_user_id: str, gp_participant_id: str) -> bool:
    """Move one waiting patient into a call. Only one admit of a patient can ever succeed."""
    admitted = bool(
        await redis.register_script(_ADMIT)(
            keys=_keys(c), args=[c.id, now(), gp_user_id, gp_participant_id]
        )
    )
    if admitted:
        await append_event(
            redis,
            "call.started",
            consultation_id=c.id,
            clinic_id=c.clinic_id,
            practitioner_id=gp_user_id,
        )
    return admitted


async def waiting_ids(redis: Redis, clinic_id: str) -> list[str]:
    return list(await redis.zrange(keys.clinic_queue(clinic_id), 0, -1))


@dataclass(frozen=True)
class Position:
    place: int  # 1-based
    total: int


def positions(ids: list[str]) -> dict[str, Position]:
    return {cid: Position(i + 1, len(ids)) for i, cid in enumerate(ids)}


async def heartbeat(redis: Redis, participant_id: str, presence_ttl: int) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.presence(participant_id), "1", ex=presence_ttl)
        pipe.zadd(keys.WAITING_LAST_SEEN, {participant_id: now()})
        await pipe.execute()


async def forget_presence(redis: Redis, participant_id: str) -> None:
    await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)


async def sweep(redis: Redis, grace_seconds: int) -> list[Consultation]:
    """Remove waiting patients whose browsers have been silent for longer than the grace.

    Any instance may run this; the leave transition is atomic, so running it twice is harmless.
    """
    cutoff = now() - grace_seconds
    stale = await redis.zrangebyscore(keys.WAITING_LAST_SEEN, 0, cutoff)
    removed: list[Consultation] = []
    for participant_id in stale:
        await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)
        if await redis.exists(keys.presence(participant_id)):
            continue
        consultation_id = await redis.hget(keys.participant(participant_id), "consultation_id")
        c = await get_consultation(redis, consultation_id) if consultation_id else None
        if c is not None and await leave(redis, c, reason="vanished"):
            removed.append(c)
    return removed
