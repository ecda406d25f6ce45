"""A consumer group over the event stream against a real Redis: batches handled and
acknowledged together, a dead consumer's entries taken over, a failed batch left pending."""

from __future__ import annotations

import pytest
from redis.asyncio.client import Pipeline

from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent, append_event
from server.store.groupconsumer import GroupConsumer

GROUP = "test"


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.seen: list[str] = []
        self.fail = fail

    async def __call__(self, events: list[StreamEvent], pipe: Pipeline) -> None:
        if self.fail:
            raise ConnectionError("the handler's own Redis call failed")
        self.seen += [e.id for e in events]
        pipe.incr("test:batches")


def consumer(redis: Redis, name: str, handler: Recorder, claim_idle: float = 30) -> GroupConsumer:
    return GroupConsumer(redis, GROUP, name, handler, start="0", claim_idle=claim_idle)


async def pending(redis: Redis) -> int:
    return int((await redis.xpending(keys.EVENTS, GROUP))["pending"])


async def test_a_batch_is_acknowledged_with_what_its_handler_queued(redis: Redis) -> None:
    ids = [await append_event(redis, EventType.CALL_STARTED, n=n) for n in range(3)]
    await redis.xadd(keys.EVENTS, {"data": "{}"})  # malformed: acknowledged, never handled
    handler = Recorder()
    one = consumer(redis, "one", handler)
    await one.ensure_group()
    assert await one.step() == 4
    assert handler.seen == ids
    assert await redis.get("test:batches") == "1"
    assert await pending(redis) == 0
    assert await one.step() == 0


async def test_a_failed_batch_stays_pending_and_a_live_consumer_takes_it_over(
    redis: Redis,
) -> None:
    event_id = await append_event(redis, EventType.PATIENT_LEFT, reason="vanished")
    dying = consumer(redis, "dying", Recorder(fail=True))
    await dying.ensure_group()
    with pytest.raises(ConnectionError):
        await dying.step()
    assert await pending(redis) == 1 and await redis.get("test:batches") is None

    handler = Recorder()
    await consumer(redis, "alive", handler, claim_idle=0).claim_stale()
    assert handler.seen == [event_id]
    assert await pending(redis) == 0
