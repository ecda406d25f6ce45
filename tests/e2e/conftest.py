"""Browser tests: a real stack (redis-server + two server processes) and real Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect

from server.store.vendors import create_vendor, issue_api_key
from tests.support.browser import launch
from tests.support.lpssimulator import simulator_process
from tests.support.redisserver import free_port
from tests.support.stack import Stack

# CI machines are small and busy; waiting longer costs nothing when things are fast.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(Path(tmp_path_factory.mktemp("stack")), instances=2)
    deployment.start()
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def demo(stack: Stack) -> dict[str, Any]:
    return stack.demo(stack.urls[0])


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


@dataclass(frozen=True)
class Lps:
    url: str  # the simulator, on an origin of its own (another site than almenvideo's)
    key: str


async def _vendor(stack: Stack, clinic_id: str, origin: str) -> str:
    async with stack.client() as redis:
        vendor = await create_vendor(redis, "Simulated LPS", [clinic_id], [origin])
        return await issue_api_key(redis, vendor.id)


@pytest.fixture(scope="module")
def lps(
    stack: Stack, demo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lps]:
    """`python -m integrations.lps.simulator` against the stack, as the demo runs it, but at
    http://localhost:<port>: cross-site to almenvideo's http://127.0.0.1, as an LPS is."""
    port = free_port()
    key = asyncio.run(_vendor(stack, demo["clinic_id"], f"http://localhost:{port}"))
    with simulator_process(
        tmp_path_factory.mktemp("lps"), stack.urls[0], key, demo["ydernummer"],
        demo["gp"]["username"], port,
    ):  # fmt: skip
        yield Lps(f"http://localhost:{port}", key)
