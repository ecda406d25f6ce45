"""A vendor's webhook endpoint for tests: a real aiohttp server on a real port that records
every request, answers as told, and can be held to play a slow vendor."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.settings import Settings
from server.store.connection import Redis
from server.store.vendors import create_vendor, issue_api_key
from server.webhooks.policy import DeliveryPolicy
from server.webhooks.signing import verify

Client = TestClient[web.Request, web.Application]

# Milliseconds instead of seconds, so retries and dead letters happen within a test.
FAST = DeliveryPolicy(
    base_delay=0.05,
    max_delay=0.2,
    max_age=60,
    request_timeout=5,
    concurrency=4,
    poll_interval=0.05,
    claim_idle=1,
)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@dataclass
class Receiver:
    """Answers the n-th request (from 0) with `answer(n)` and the headers `headers(n)`;
    while `hold` is set... held."""

    answer: Callable[[int], int] = lambda n: 200
    headers: Callable[[int], dict[str, str]] = lambda n: {}
    arrived: list[Received] = field(default_factory=list)
    answered: list[tuple[Received, int]] = field(default_factory=list)
    hold: asyncio.Event | None = None
    port: int | None = None  # a given port, so a receiver can come back where it was
    server: TestServer | None = None

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, port=self.port)
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        assert self.server is not None
        await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    async def _hook(self, request: web.Request) -> web.Response:
        received = Received(dict(request.headers), await request.read(), time.monotonic())
        n = len(self.arrived)
        self.arrived.append(received)
        if self.hold is not None:
            await self.hold.wait()
        status = self.answer(n)
        self.answered.append((received, status))
        return web.Response(status=status, headers=self.headers(n))

    def ids(self) -> list[str]:
        return [r.id for r in self.arrived]

    def verify_all(self, secret: str) -> None:
        """Every request carried a valid, fresh Standard Webhooks signature."""
        for r in self.arrived:
            verify(secret, r.headers, r.body, now=time.time())


async def start(aiohttp_client: AiohttpClient, settings: Settings, **policy: float) -> Client:
    """The app with FAST delivery (changed by `policy`), allowed to deliver to this machine:
    the receivers listen here (the development setting)."""
    fast = DeliveryPolicy(**{**FAST.__dict__, **policy})
    return await aiohttp_client(
        create_app(settings.with_(webhook_policy=fast, webhook_allow_local=True))
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def vendor_with_key(redis: Redis, clinic_ids: list[str], name: str = "Journal A/S") -> str:
    vendor = await create_vendor(redis, name, clinic_ids)
    return await issue_api_key(redis, vendor.id)


async def register(api: Client, key: str, url: str) -> str:
    """PUT the webhook; returns its secret."""
    response = await api.put("/api/v1/webhook", json={"url": url}, headers=bearer(key))
    assert response.status == 200, await response.text()
    secret: str = (await response.json())["secret"]
    return secret


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 20) -> None:
    """Wait until `check()` holds; fail after `within` seconds (generous: not a timing test)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)
