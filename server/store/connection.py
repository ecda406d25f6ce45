"""Opening the Redis connection the app uses: the configured server, the master that Redis
Sentinel names, or the embedded one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from server.settings import Settings
from server.store.embedded import EmbeddedRedis

# The Sentinels answer within this, or the next one is asked.
SENTINEL_TIMEOUT_SECONDS = 0.5


class Redis(aioredis.Redis):
    """redis-py's client, plus what a money or consent write needs before it is acknowledged:
    `durable_replicas` replicas holding it (`server.store.durability`). Only clients made by
    `open_redis` carry the setting; any other client asks for none."""

    durable_replicas: int = 0
    durable_timeout_ms: int = 2000


class BlockingSentinelConnectionPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """Sentinel's pool (connections ask the Sentinels where the master is, so they follow a
    failover), bounded like the app's other pool: a burst waits for a connection."""


@asynccontextmanager
async def open_redis(
    settings: Settings, embedded: EmbeddedRedis | None = None
) -> AsyncIterator[Redis]:
    """`embedded`: the embedded Redis, already begun (`serve` begins it before importing the
    app, so it starts sooner); without it, one is made here if the settings name no Redis."""
    sentinel: Sentinel | None = None
    # A bounded pool: a burst of thousands of sockets waits briefly for a connection
    # instead of opening thousands of them to Redis.
    options: dict[str, object] = {
        "decode_responses": True,
        "health_check_interval": 30,
        "max_connections": settings.redis_max_connections,
        "timeout": 10,
    }
    if settings.redis_sentinels:
        embedded = None
        sentinel = Sentinel(
            settings.sentinel_addresses,
            sentinel_kwargs={
                "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
                "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
            },
        )
        client: Redis = sentinel.master_for(
            settings.redis_master,
            redis_class=Redis,
            connection_pool_class=BlockingSentinelConnectionPool,
            **options,
        )
    else:
        url = settings.redis_url
        if not url:
            embedded = embedded or EmbeddedRedis(settings.data_dir)
            url = await embedded.start()
        else:
            embedded = None
        pool = aioredis.BlockingConnectionPool.from_url(url, **options)
        client = Redis(connection_pool=pool)
    client.durable_replicas = settings.replicas_to_wait
    client.durable_timeout_ms = settings.durable_timeout_ms
    try:
        yield client
    finally:
        await client.aclose()
        await client.connection_pool.disconnect()
        if sentinel is not None:
            await sentinel.aclose()
        if embedded is not None:
            await embedded.stop()
