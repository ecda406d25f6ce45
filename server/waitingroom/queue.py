"""Queue transitions, each one atomic in Redis so two GPs or two instances cannot race.

booked --enter--> waiting --admit--> in_call --hold--> waiting (at the front)
waiting --leave / removed / vanished--> booked
(the call's end, in server.consultations.call, takes any status but cancelled to ended)

A queue entry's key is (score, consultation id): scheduled patients score their appointment
time, drop-ins their arrival, a patient put back on hold scores just ahead of everyone.
Redis orders equal scores by member, so the key orders exactly as the sorted set does.
"""

from __future__ import annotations

import asyncio

from server.clock import now
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation
from server.store.events import append_event

QueueKey = tuple[float, str]

# Returns the entry's score when it newly joined, "" when it was already waiting, nil if not.
_ENTER = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'waiting' then return '' end
if status ~= 'booked' then return nil end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'waiting_since', ARGV[2])
local score = redis.call('HGET', KEYS[1], 'scheduled_start')
if not score or score == '' then score = ARGV[2] end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return score
"""

# Returns the score the entry had, or nil if it was not waiting.
_LEAVE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return nil end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'booked', 'waiting_since', '')
redis.call('ZREM', KEYS[2], ARGV[1])
return score
"""

_ADMIT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return nil end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'in_call', 'practitioner_id', ARGV[3],
           'gp_participant', ARGV[4])
if redis.call('HGET', KEYS[1], 'started_at') == '' then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return score
"""

# Back from a call to the head of the queue: one second ahead of whoever is first now. The
# patient leaves the call (anyone else in it stays) and is watched for presence again, so
# one whose browser is gone is swept as usual.
_HOLD = """
if redis.call('HGET', KEYS[1], 'status') ~= 'in_call' then return nil end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local score = ARGV[2]
if first[2] and tonumber(first[2]) <= tonumber(score) then
  score = tostring(tonumber(first[2]) - 1)
end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'waiting_since', ARGV[2])
redis.call('ZADD', KEYS[2], score, ARGV[1])
local patient = redis.call('HGET', KEYS[1], 'patient_participant')
if patient and patient ~= '' then
  redis.call('SREM', KEYS[3], patient)
  redis.call('ZADD', KEYS[4], ARGV[2], patient)
end
return score
"""


def _keys(c: Consultation) -> list[str]:
    return [keys.consultation(c.id), keys.clinic_queue(c.clinic_id)]


def _score(result: object) -> float | None:
    return None if result is None or result == "" else float(str(result))


async def enter(redis: Redis, c: Consultation) -> tuple[bool, float | None]:
    """Put the patient in the queue (idempotent). Returns (may wait, score if newly joined)."""
    result = await redis.register_script(_ENTER)(keys=_keys(c), args=[c.id, now()])
    if result is None:
        return False, None
    score = _score(result)
    if score is not None:
        await append_event(redis, "patient.waiting", consultation_id=c.id, clinic_id=c.clinic_id)
    return True, score


async def leave(redis: Redis, c: Consultation, reason: str) -> float | None:
    """Take the patient out of the queue; returns the score they had, None if not waiting."""
    score = _score(await redis.register_script(_LEAVE)(keys=_keys(c), args=[c.id]))
    if score is not None:
        await append_event(
            redis, "patient.left", consultation_id=c.id, clinic_id=c.clinic_id, reason=reason
        )
    return score


async def admit(
    redis: Redis, c: Consultation, gp_user_id: str, gp_participant_id: str
) -> float | None:
    """Move one waiting patient into a call; only one admit of a patient can succeed.
    Returns the score the patient left the queue with, or None if they were not waiting."""
    score = _score(
        await redis.register_script(_ADMIT)(
            keys=_keys(c), args=[c.id, now(), gp_user_id, gp_participant_id]
        )
    )
    if score is not None:
        await append_event(
            redis,
            "call.started",
            consultation_id=c.id,
            clinic_id=c.clinic_id,
            practitioner_id=gp_user_id,
        )
    return score


async def hold(redis: Redis, c: Consultation) -> float | None:
    """Put a patient in a call back in the queue, at the front. Returns their new score."""
    result = await redis.register_script(_HOLD)(
        keys=[*_keys(c), keys.call_members(c.id), keys.WAITING_LAST_SEEN], args=[c.id, now()]
    )
    score = _score(result)
    if score is not None:
        await append_event(redis, "patient.held", consultation_id=c.id, clinic_id=c.clinic_id)
    return score


async def rank(redis: Redis, c: Consultation) -> int | None:
    """0-based place in the queue, or None if not waiting."""
    place = await redis.zrank(keys.clinic_queue(c.clinic_id), c.id)
    return None if place is None else int(place)


async def score_of(redis: Redis, c: Consultation) -> float | None:
    score = await redis.zscore(keys.clinic_queue(c.clinic_id), c.id)
    return None if score is None else float(score)


async def waiting_ids(redis: Redis, clinic_id: str) -> list[str]:
    return list(await redis.zrange(keys.clinic_queue(clinic_id), 0, -1))


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


async def sweep(redis: Redis, grace_seconds: int) -> list[tuple[Consultation, float]]:
    """Remove waiting patients whose browsers have been silent for longer than the grace.
    Returns each removed consultation with the score it had.

    Any instance may run this; the leave transition is atomic, so running it twice is harmless.
    """
    cutoff = now() - grace_seconds
    stale = await redis.zrangebyscore(keys.WAITING_LAST_SEEN, 0, cutoff)
    removed: list[tuple[Consultation, float]] = []
    for participant_id in stale:
        await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)
        if await redis.exists(keys.presence(participant_id)):
            continue
        consultation_id = await redis.hget(keys.participant(participant_id), "consultation_id")
        c = await get_consultation(redis, consultation_id) if consultation_id else None
        if c is not None and (score := await leave(redis, c, reason="vanished")) is not None:
            removed.append((c, score))
    return removed
