"""Instances found dead lose the presence they held, and only that (real Redis)."""

from __future__ import annotations

import redis.asyncio as aioredis

from server.store import instances, keys
from server.waitingroom import queue


async def test_a_dead_instance_loses_only_the_presence_it_still_holds(
    redis: aioredis.Redis,
) -> None:
    for instance in ("a", "b"):
        await instances.alive(redis, instance, ttl=5)
    await queue.heartbeat(redis, "stayed", 25, "b")
    await queue.heartbeat(redis, "moved", 25, "b")
    await queue.heartbeat(redis, "moved", 25, "a")  # reconnected to a before b was found dead
    await queue.heartbeat(redis, "elsewhere", 25, "a")
    await redis.delete(keys.instance_alive("b"))  # b stopped saying it is alive

    assert await instances.unanswered(redis, "a") == ["b"]
    assert await instances.bury(redis, "b") == ["stayed"]
    assert not await redis.exists(keys.presence("stayed"))
    assert await redis.get(keys.presence("moved")) == "a"
    assert await redis.exists(keys.presence("elsewhere"))
    assert await instances.unanswered(redis, "a") == []
    assert await instances.bury(redis, "b") == []  # a second burial finds nothing more


async def test_a_live_instance_is_not_buried_and_outages_hold_burials(
    redis: aioredis.Redis,
) -> None:
    await instances.alive(redis, "b", ttl=5)
    await queue.heartbeat(redis, "p", 25, "b")
    assert await instances.bury(redis, "b") is None

    await redis.delete(keys.instance_alive("b"))
    await instances.hold_burials(redis, 30)
    assert await instances.bury(redis, "b") is None
    assert await redis.exists(keys.presence("p"))


async def test_a_lapsed_presence_is_reported_when_it_is_renewed(redis: aioredis.Redis) -> None:
    assert await queue.heartbeat(redis, "p", 25, "a")  # never present before
    assert not await queue.heartbeat(redis, "p", 25, "a")
    await redis.delete(keys.presence("p"))
    assert await queue.heartbeat(redis, "p", 25, "a")
