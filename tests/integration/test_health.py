"""`/healthz`: 200 while Redis answers, 503 with a reason once it does not."""

from __future__ import annotations

from pathlib import Path

from server.app import create_app
from server.settings import Settings
from tests.integration.helpers import Client
from tests.support.redisserver import RedisServer, free_port


async def test_healthy(client: Client, settings: Settings) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {
        "status": "ok",
        "redis": "ok",
        "instance": settings.instance_id,
    }


async def test_unavailable_when_redis_goes_away(
    aiohttp_client: object, settings: Settings, tmp_path: Path
) -> None:
    own = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    own.start()
    try:
        client: Client = await aiohttp_client(  # type: ignore[operator]
            create_app(settings.with_(redis_url=own.url, instance_id="lonely"))
        )
        assert (await client.get("/healthz")).status == 200
    finally:
        own.stop()
    response = await client.get("/healthz")
    assert response.status == 503
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["status"] == "unavailable"
    assert body["instance"] == "lonely"
    assert body["reason"].startswith("redis unreachable")


async def test_starts_and_answers_503_before_redis_is_reachable(
    aiohttp_client: object, settings: Settings
) -> None:
    """An instance may come up before its Redis: it says so instead of failing to start."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    client: Client = await aiohttp_client(  # type: ignore[operator]
        create_app(settings.with_(redis_url=closed))
    )
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["reason"].startswith("redis unreachable")
