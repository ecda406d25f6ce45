"""Each vendor's outbox: the deliveries still to make, when to try each next, and the dead
letters given up on. Kept per vendor so one vendor's failing endpoint holds up nobody else.

A sender *leases* due messages by pushing their due time past the lease, so another instance
does not send them meanwhile; if the sender dies, the lease runs out and someone else sends
them (at least once). Success removes the message; failure reschedules it, or, once it has
failed for `max_age`, moves it to the dead letters.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio.client import Pipeline

from server.clock import iso_utc
from server.store import keys
from server.store.connection import Redis
from server.webhooks.policy import DeliveryPolicy, backoff

DEAD_LETTERS_KEPT = 1000

# KEYS: due, messages. ARGV: now, lease until, count. Returns [id, message JSON, ...].
_LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local leased = {}
for _, id in ipairs(due) do
  local message = redis.call('HGET', KEYS[2], id)
  if message then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(leased, id)
    table.insert(leased, message)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return leased
"""

# KEYS: due, messages. ARGV: id, message JSON, next try. Only while the message is pending.
_RETRY = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

# KEYS: due, messages, dead letters. ARGV: id, dead letter JSON, how many to keep.
_BURY = """
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
return 1
"""


@dataclass(frozen=True)
class Message:
    """One delivery to one vendor. `id` is the event id, sent as `webhook-id` on every try."""

    id: str
    body: str
    first_at: float
    attempts: int = 0
    last_error: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Message:
        return cls(**json.loads(raw))


def _keys(vendor_id: str) -> list[str]:
    return [keys.webhook_due(vendor_id), keys.webhook_messages(vendor_id)]


def enqueue(pipe: Pipeline, vendor_id: str, message: Message, due_at: float) -> None:
    """Add to the fan-out's transaction; a message already pending is left as it is."""
    pipe.hsetnx(keys.webhook_messages(vendor_id), message.id, message.to_json())
    pipe.zadd(keys.webhook_due(vendor_id), {message.id: due_at}, nx=True)


async def lease_due(
    redis: Redis, vendor_id: str, now: float, until: float, count: int
) -> list[Message]:
    """Up to `count` due messages, oldest due first, hidden from other senders until `until`."""
    found = await redis.register_script(_LEASE)(
        keys=_keys(vendor_id), args=[repr(now), repr(until), count]
    )
    return [Message.from_json(raw) for raw in found[1::2]]


async def delivered(redis: Redis, vendor_id: str, message_id: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(keys.webhook_due(vendor_id), message_id)
        pipe.hdel(keys.webhook_messages(vendor_id), message_id)
        await pipe.execute()


async def failed(
    redis: Redis,
    vendor_id: str,
    message: Message,
    error: str,
    now: float,
    policy: DeliveryPolicy,
    rng: random.Random | None = None,
    not_before: float = 0.0,
) -> bool:
    """Schedule the next try with back-off (and no sooner than `not_before`, when the
    endpoint asked for that), or give up after `max_age`; True if given up."""
    tried = Message(message.id, message.body, message.first_at, message.attempts + 1, error)
    if now - message.first_at >= policy.max_age:
        dead = {
            "id": tried.id,
            "payload": json.loads(tried.body),
            "attempts": tried.attempts,
            "first_attempt_at": iso_utc(tried.first_at),
            "dead_at": iso_utc(now),
            "last_error": error,
        }
        script = redis.register_script(_BURY)
        args: list[Any] = [tried.id, json.dumps(dead, ensure_ascii=False), DEAD_LETTERS_KEPT]
        await script(keys=[*_keys(vendor_id), keys.webhook_dead_letters(vendor_id)], args=args)
        return True
    next_at = max(now + backoff(policy, tried.attempts, rng), not_before)
    await redis.register_script(_RETRY)(
        keys=_keys(vendor_id), args=[tried.id, tried.to_json(), repr(next_at)]
    )
    return False


async def dead_letters(
    redis: Redis, vendor_id: str, count: int = DEAD_LETTERS_KEPT
) -> list[dict[str, Any]]:
    """The newest deliveries given up on, newest first."""
    return [
        json.loads(raw)
        for raw in await redis.lrange(keys.webhook_dead_letters(vendor_id), 0, count - 1)
    ]
