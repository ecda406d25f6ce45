"""Which app instances are alive, and the waiting patients whose sockets each one holds.

A patient's presence key lives 25 s after its last refresh, so after a kill -9 the clinic
would go on seeing the crashed instance's patients as connected for that long. Instead each
instance keeps a liveness key of a few seconds and refreshes it every second or so; the
others look for instances whose key is gone and bury them: in one Lua step, every patient
whose presence the dead instance held loses it (their grace starts then), and the caller
tells their clinics. A patient who already reconnected elsewhere holds presence under the
new instance's id, so the burial leaves them alone.

An outage of Redis would make every instance look dead, so an instance that reaches Redis
again after failing to holds burials for a while (`hold_burials`), as sweeps are held.
"""

from __future__ import annotations

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis

# KEYS: alive, INSTANCES. ARGV: instance id, ttl. 1 if the key was still there.
_ALIVE = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return existed
"""

# KEYS: alive, INSTANCES, the instance's patients, WAITING_LAST_SEEN, BURIALS_HELD_UNTIL.
# ARGV: instance id, now, presence key prefix, force ('1' buries even a live key: an
# instance starting again under the same id buries its former life). The participant ids
# whose presence it held; nil if it is alive or burials are held.
_BURY = """
if ARGV[4] ~= '1' then
  local held = redis.call('GET', KEYS[5])
  if held and tonumber(held) > tonumber(ARGV[2]) then return nil end
  if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
end
redis.call('SREM', KEYS[2], ARGV[1])
local lost = {}
for _, participant in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local presence = ARGV[3] .. participant
  if redis.call('GET', presence) == ARGV[1] then
    redis.call('DEL', presence)
    redis.call('ZADD', KEYS[4], 'XX', ARGV[2], participant)
    lost[#lost + 1] = participant
  end
end
redis.call('DEL', KEYS[3])
return lost
"""


async def alive(redis: Redis, instance_id: str, ttl: int) -> bool:
    """Say this instance is alive for `ttl` seconds; False if its key had lapsed (a first
    start, an outage, or a pause long enough to be taken for dead)."""
    script = redis.register_script(_ALIVE)
    keys_ = [keys.instance_alive(instance_id), keys.INSTANCES]
    return bool(await script(keys=keys_, args=[instance_id, ttl]))


async def unanswered(redis: Redis, instance_id: str) -> list[str]:
    """The other instances that said they were alive and no longer do."""
    others = sorted(decoded.members(await redis.smembers(keys.INSTANCES)) - {instance_id})
    if not others:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for other in others:
            pipe.exists(keys.instance_alive(other))
        found = await pipe.execute()
    return [other for other, exists in zip(others, found, strict=True) if not exists]


async def bury(redis: Redis, instance_id: str, force: bool = False) -> list[str] | None:
    """Take presence from every waiting patient the dead instance held; None if it is not
    dead after all (or burials are held), else the participant ids, for their clinics."""
    script = redis.register_script(_BURY)
    keys_ = [
        keys.instance_alive(instance_id),
        keys.INSTANCES,
        keys.instance_patients(instance_id),
        keys.WAITING_LAST_SEEN,
        keys.BURIALS_HELD_UNTIL,
    ]
    prefix = keys.presence("")
    lost = await script(keys=keys_, args=[instance_id, now(), prefix, "1" if force else "0"])
    return None if lost is None else decoded.strings(lost)


async def forget_before(redis: Redis, instance_id: str, before: float) -> None:
    """Patients this instance has not beaten for since `before` no longer wait on it."""
    await redis.zremrangebyscore(keys.instance_patients(instance_id), "-inf", f"({before}")


async def retire(redis: Redis, instance_id: str) -> None:
    """A graceful stop: its sockets have closed (each patient's departure was told)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.srem(keys.INSTANCES, instance_id)
        pipe.delete(keys.instance_alive(instance_id), keys.instance_patients(instance_id))
        await pipe.execute()


async def hold_burials(redis: Redis, seconds: float) -> None:
    """Nobody is judged dead for `seconds` from now (a later hold extends, never shortens)."""
    until = now() + seconds
    current = decoded.text(await redis.get(keys.BURIALS_HELD_UNTIL))
    if current is None or float(current) < until:
        await redis.set(keys.BURIALS_HELD_UNTIL, until, ex=int(seconds) + 60)
