"""Fixtures shared by the fault tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.stack import Stack


@pytest.fixture
async def two_instances(tmp_path: Path) -> AsyncIterator[Stack]:
    """Two app instances over one redis-server, with the product's presence grace (30 s):
    a patient who went stays listed for that long, so the app itself must say they went."""
    stack = Stack(tmp_path, instances=2, env={"ALMENVIDEO_PRESENCE_GRACE": "30"})
    await asyncio.to_thread(stack.start)
    yield stack
    await asyncio.to_thread(stack.stop)
