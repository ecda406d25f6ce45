"""Who is connected in a consultation's live call.

The call is open while anyone is connected in it. It usually opens when the GP admits the
patient, but a GP may open it with an invited professional first and let the patient in
later; the consultation's status then stays `booked`/`waiting` (it describes the patient)
while the GP and the professional talk. Opening and ending it are the room's moves
(server/waitingroom/room.py).
"""

from __future__ import annotations

from server.store import decoded, keys
from server.store.connection import Redis

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
    return set(decoded.members(await redis.smembers(keys.call_members(consultation_id))))
