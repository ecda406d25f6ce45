"""Shared fixtures: one real Redis server for the whole run, flushed between tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.settings import Settings
from tests.support.redisserver import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_server.url,
        data_dir=tmp_path,
        secure_cookies=False,
        presence_grace_seconds=2,
    )


@pytest.fixture
async def client(aiohttp_client: object, settings: Settings, redis: aioredis.Redis) -> TestClient:  # type: ignore[type-arg]
    """The app over real HTTP and a real (flushed) Redis."""
    return await aiohttp_client(create_app(settings))  # type: ignore[operator, no-any-return]
