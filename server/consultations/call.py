"""The live call of a consultation: who is connected in it, opening it, and ending it.

The call is open while anyone is connected in it. It usually opens when the GP admits the
patient (the queue's admit), but a GP may open it with an invited professional first and
let the patient in later; the consultation's status then stays `booked`/`waiting` (it
describes the patient) while the GP and the professional talk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


# Open the call with the GP's seat unless the consultation is over. 1: newly started.
_OPEN = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'ended' or status == 'cancelled' then return -1 end
redis.call('HSET', KEYS[1], 'practitioner_id', ARGV[2], 'gp_participant', ARGV[3])
if redis.call('HGET', KEYS[1], 'started_at') == '' then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[1])
  return 1
end
return 0
"""


async def open_call(redis: Redis, c: Consultation, gp_user_id: str, gp_participant: str) -> bool:
    """The GP takes the consultation's call (to let a professional in before the patient).
    False if the consultation is over."""
    started = await redis.register_script(_OPEN)(
        keys=[keys.consultation(c.id)], args=[now(), gp_user_id, gp_participant]
    )
    if started == 1:
        await append_event(
            redis, "call.started", consultation_id=c.id, clinic_id=c.clinic_id,
            practitioner_id=gp_user_id,
        )  # fmt: skip
    return started >= 0


@dataclass(frozen=True)
class Ended:
    consultation: Consultation
    members: list[str]  # who was connected when it ended
    queue_score: float | None  # the patient's place, if they were still waiting


# Closes the call (in a call, or open without the patient yet) and returns the peak number
# of parties read in the same step, so a late joiner cannot slip past the count; then the
# waiting patient's queue score ('' if none) and who was connected. {-1} if not in a call.
_END = """
local status = redis.call('HGET', KEYS[1], 'status')
local members = redis.call('SMEMBERS', KEYS[2])
if status ~= 'in_call' and (#members == 0 or status == 'ended' or status == 'cancelled') then
  return {-1}
end
local score = redis.call('ZSCORE', KEYS[3], ARGV[2]) or ''
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'ended', 'ended_at', ARGV[1], 'waiting_since', '')
redis.call('DEL', KEYS[2])
local peak = tonumber(redis.call('HGET', KEYS[1], 'peak_parties') or '0') or 0
return {peak, score, unpack(members)}
"""


async def end(redis: Redis, c: Consultation, continued_by_phone: bool = False) -> Ended | None:
    """End the call and settle its billing code, once. None if no call was open."""
    ended_at = now()
    result = await redis.register_script(_END)(
        keys=[keys.consultation(c.id), keys.call_members(c.id), keys.clinic_queue(c.clinic_id)],
        args=[ended_at, c.id],
    )
    parties = int(result[0])
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
    score = str(result[1])
    return Ended(
        replace(c, status=ENDED, ended_at=ended_at, billing_code=code),
        sorted(str(m) for m in result[2:]),
        float(score) if score else None,
    )
