"""Commands of one turn of the loop share a pipeline; each caller gets its own replies."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.store.coalescer import Coalescer
from server.store.connection import Redis


async def test_callers_of_one_turn_get_their_own_replies_in_order(redis: Redis) -> None:
    await redis.set("av:test:a", "1")
    await redis.sadd("av:test:s", "x")
    coalescer = Coalescer(redis)
    first, second, third = await asyncio.gather(
        coalescer.execute([("GET", "av:test:a"), ("INCR", "av:test:n")]),
        coalescer.execute([("SMISMEMBER", "av:test:s", "x", "y")]),
        coalescer.execute([("INCR", "av:test:n"), ("GET", "av:test:missing")]),
    )
    assert first == ["1", 1]
    assert [bool(v) for v in second[0]] == [True, False]
    assert third == [2, None]


async def test_a_refused_command_is_its_callers_alone(redis: Redis) -> None:
    await redis.sadd("av:test:set", "x")
    coalescer = Coalescer(redis)
    wrong, right = await asyncio.gather(
        coalescer.execute([("GET", "av:test:set")]),  # WRONGTYPE
        coalescer.execute([("SCARD", "av:test:set")]),
    )
    assert isinstance(wrong[0], ResponseError)
    assert right == [1]


async def test_no_connection_in_the_pool_fails_every_caller_of_the_turn(redis: Redis) -> None:
    kwargs = redis.get_connection_kwargs()
    pool = aioredis.BlockingConnectionPool(
        host=kwargs["host"], port=kwargs["port"], max_connections=1, timeout=0.1
    )
    client = Redis(connection_pool=pool)
    held = await pool.get_connection()
    try:
        coalescer = Coalescer(client)
        results = await asyncio.gather(
            coalescer.execute([("PING",)]), coalescer.execute([("PING",)]), return_exceptions=True
        )
        assert all(isinstance(r, RedisConnectionError) for r in results)
    finally:
        await pool.release(held)
        await client.aclose()
        await pool.disconnect()
