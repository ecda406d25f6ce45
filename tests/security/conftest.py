"""An app that trusts the test client as its reverse proxy, so a test can speak from many
client addresses (X-Forwarded-For), as an attacker with many addresses would."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.settings import Settings
from server.store.connection import Redis


@pytest.fixture
async def proxied(aiohttp_client: object, settings: Settings, redis: Redis) -> TestClient:  # type: ignore[type-arg]
    proxied_settings = settings.with_(trusted_proxies=("127.0.0.0/8", "::1/128"))
    return await aiohttp_client(create_app(proxied_settings))  # type: ignore[operator, no-any-return]
