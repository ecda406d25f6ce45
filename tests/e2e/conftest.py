"""Browser tests: a real stack (redis-server + two server processes) and real Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.support.browser import launch
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
