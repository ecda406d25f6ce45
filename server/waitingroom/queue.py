"""A clinic's queue as it stands, and its patients' presence (the moves are the room's).

A queue entry's key is (score, consultation id): scheduled patients score their appointment
time, drop-ins their arrival, a patient put back on hold scores just ahead of everyone.
Redis orders equal scores by member, so the key orders exactly as the sorted set does.
"""

from __future__ import annotations

import asyncio

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation

QueueKey = tuple[float, str]


async def waiting_ids(redis: Redis, clinic_id: str) -> list[str]:
    return decoded.strings(await redis.zrange(keys.clinic_queue(clinic_id), 0, -1))


async def place_of(redis: Redis, c: Consultation) -> tuple[QueueKey, int, int] | None:
    """The consultation's queue key, 0-based place and the queue's move counter, read in one
    step; None if not waiting."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zscore(keys.clinic_queue(c.clinic_id), c.id)
        pipe.zrank(keys.clinic_queue(c.clinic_id), c.id)
        pipe.get(keys.clinic_queue_count(c.clinic_id))
        score, rank, moves = await pipe.execute()
    if score is None or rank is None:
        return None
    return (float(score), c.id), int(rank), int(moves or 0)


async def order_of(redis: Redis, clinic_id: str) -> tuple[list[str], int]:
    """The clinic's waiting consultation ids in order and the queue's move counter, read in
    one step."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrange(keys.clinic_queue(clinic_id), 0, -1)
        pipe.get(keys.clinic_queue_count(clinic_id))
        order, moves = await pipe.execute()
    return decoded.strings(order), int(moves or 0)


async def heartbeat(redis: Redis, participant_id: str, presence_ttl: int, instance: str) -> bool:
    """Mark one waiting patient present, their socket held by `instance`; True if their
    presence had lapsed."""
    return bool(await heartbeat_many(redis, [participant_id], presence_ttl, instance))


HEARTBEAT_CHUNK = 1000

# KEYS: the last-seen set, the instance's patients, then each patient's presence key;
# ARGV: the instance, the presence's lifetime, the time, then the participant ids in the
# order of their keys. Returns the ids whose presence had lapsed.
_HEARTBEAT = """
local lapsed = {}
local seen = {}
for i = 3, #KEYS do
  local pid = ARGV[i + 1]
  if not redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2], 'GET') then
    lapsed[#lapsed + 1] = pid
  end
  seen[#seen + 1] = ARGV[3]
  seen[#seen + 1] = pid
end
if #seen > 0 then
  redis.call('ZADD', KEYS[1], unpack(seen))
  redis.call('ZADD', KEYS[2], unpack(seen))
end
return lapsed
"""


async def heartbeat_many(
    redis: Redis, participant_ids: list[str], presence_ttl: int, instance: str
) -> list[str]:
    """Mark these waiting patients present, their sockets held by `instance`: one script
    per chunk, yielding between chunks so that thousands of patients never hold up an admit
    for long. Returns those whose presence had lapsed (expired, or taken away because their
    instance was found dead), so that their clinic can be told they are connected again.

    One script call with a thousand arguments rather than a pipeline of a thousand SETs:
    the client packs and parses one command instead of a thousand, which was most of the
    cost of a presence round with thousands waiting."""
    at = now()
    script = redis.register_script(_HEARTBEAT)
    common = [keys.WAITING_LAST_SEEN, keys.instance_patients(instance)]
    lapsed: list[str] = []
    for start in range(0, len(participant_ids), HEARTBEAT_CHUNK):
        chunk = participant_ids[start : start + HEARTBEAT_CHUNK]
        presence = [keys.presence(participant_id) for participant_id in chunk]
        found = await script(keys=common + presence, args=[instance, presence_ttl, at, *chunk])
        lapsed += decoded.strings(found)
        await asyncio.sleep(0)
    return lapsed


async def departed(redis: Redis, participant_id: str) -> None:
    """The browser closed its socket: not present, and the grace period starts now."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(keys.presence(participant_id))
        pipe.zadd(keys.WAITING_LAST_SEEN, {participant_id: now()}, xx=True)
        await pipe.execute()


async def forget_presence(redis: Redis, participant_id: str) -> None:
    await redis.zrem(keys.WAITING_LAST_SEEN, participant_id)


async def hold_sweeps(redis: Redis, seconds: float) -> None:
    """An instance could not reach Redis for a while and now can: nobody could refresh their
    presence meanwhile, so an outage must not count as absence. Nobody is judged absent for
    `seconds` from now, time for every instance's live sockets to re-assert their place
    (a later hold extends, never shortens, an earlier one)."""
    until = now() + seconds
    current = decoded.text(await redis.get(keys.SWEEP_HELD_UNTIL))
    if current is None or float(current) < until:
        await redis.set(keys.SWEEP_HELD_UNTIL, until, ex=int(seconds) + 60)


# KEYS: the last-seen set; ARGV: the cutoff, the presence keys' prefix. The silent patients
# without presence leave the set and are returned; those with presence stay in it.
_VANISHED = """
local gone = {}
for _, participant in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1])) do
  if redis.call('EXISTS', ARGV[2] .. participant) == 0 then
    redis.call('ZREM', KEYS[1], participant)
    gone[#gone + 1] = participant
  end
end
return gone
"""


async def vanished(redis: Redis, grace_seconds: int) -> list[Consultation]:
    """Consultations of waiting patients whose browsers have been silent for longer than
    the grace (the room takes them out of the queue); none while sweeps are held after an
    outage (`hold_sweeps`).

    Whether each silent patient is still present is looked at in one script: with a grace
    shorter than a presence round every waiting patient looks silent between rounds, and
    asking Redis about each of ten thousand, one by one, every sweep, was most of what an
    instance did while they waited."""
    held_until = decoded.text(await redis.get(keys.SWEEP_HELD_UNTIL))
    if held_until is not None and float(held_until) > now():
        return []
    script = redis.register_script(_VANISHED)
    cutoff = now() - grace_seconds
    stale = await script(keys=[keys.WAITING_LAST_SEEN], args=[cutoff, keys.presence("")])
    gone: list[Consultation] = []
    for participant_id in decoded.strings(stale):
        consultation_id = decoded.text(
            await redis.hget(keys.participant(participant_id), "consultation_id")
        )
        c = await get_consultation(redis, consultation_id) if consultation_id else None
        if c is not None:
            gone.append(c)
    return gone
