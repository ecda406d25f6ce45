"""Opening the Redis connection the app uses: the configured server, or the embedded one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from server.settings import Settings
from server.store.embedded import EmbeddedRedis

Redis = aioredis.Redis


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()
    # A bounded pool: a burst of thousands of sockets waits briefly for a connection
    # instead of opening thousands of them to Redis.
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        max_connections=settings.redis_max_connections,
        timeout=10,
    )
    client: Redis = aioredis.Redis(connection_pool=pool)
    try:
        yield client
    finally:
        await client.aclose()
        await pool.aclose()
        if embedded is not None:
            await embedded.stop()
