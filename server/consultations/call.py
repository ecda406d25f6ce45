"""The live call of a consultation: who is connected in it, and ending it."""

from __future__ import annotations

from dataclasses import replace

from server.clock import now
from server.consultations.billing import billing_code
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import ENDED, Consultation
from server.store.events import append_event

# Adds the participant and keeps the peak number connected at once; returns those before.
_CONNECT = """
local before = redis.call('SMEMBERS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local now = redis.call('SCARD', KEYS[1])
local peak = tonumber(redis.call('HGET', KEYS[2], 'peak_parties') or '0') or 0
if now > peak then redis.call('HSET', KEYS[2], 'peak_parties', now) end
return before
"""


async def connect(redis: Redis, consultation_id: str, participant_id: str) -> list[str]:
    """Mark the participant connected in the call; returns the others already there.

    The consultation remembers the most parties connected at the same time: that, not
    how many seats were ever made (a GP may hold and re-admit), decides 0125 or 0126."""
    before = await redis.register_script(_CONNECT)(
        keys=[keys.call_members(consultation_id), keys.consultation(consultation_id)],
        args=[participant_id],
    )
    return sorted(m for m in before if m != participant_id)


async def disconnect(redis: Redis, consultation_id: str, participant_id: str) -> list[str]:
    """Remove the participant; returns who is still there."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.srem(keys.call_members(consultation_id), participant_id)
        pipe.smembers(keys.call_members(consultation_id))
        _, members = await pipe.execute()
    return sorted(members)


async def members(redis: Redis, consultation_id: str) -> set[str]:
    return set(await redis.smembers(keys.call_members(consultation_id)))


# Closes the call and returns the peak number of parties (-1 if it was not in a call),
# read in the same step, so a late joiner cannot slip past the count.
_END = """
if redis.call('HGET', KEYS[1], 'status') ~= 'in_call' then return -1 end
redis.call('HSET', KEYS[1], 'status', 'ended', 'ended_at', ARGV[1])
redis.call('DEL', KEYS[2])
return tonumber(redis.call('HGET', KEYS[1], 'peak_parties') or '0') or 0
"""


async def end(
    redis: Redis, c: Consultation, continued_by_phone: bool = False
) -> Consultation | None:
    """End the call and settle its billing code, once. None if it was not in a call."""
    ended_at = now()
    parties = await redis.register_script(_END)(
        keys=[keys.consultation(c.id), keys.call_members(c.id)],
        args=[ended_at],
    )
    if parties < 0:
        return None
    code = billing_code(parties, continued_by_phone)
    await redis.hset(keys.consultation(c.id), "billing_code", code)
    duration = int(ended_at - (c.started_at or ended_at))
    await append_event(
        redis,
        "call.ended",
        consultation_id=c.id,
        clinic_id=c.clinic_id,
        billing_code=code,
        duration_seconds=duration,
        parties=parties,
    )
    return replace(c, status=ENDED, ended_at=ended_at, billing_code=code)
