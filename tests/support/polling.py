"""Waiting, in a test, for something that happens in other processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(check: Callable[[], bool], seconds: float) -> bool:
    """Whether `check()` came true within `seconds` (polled every 100 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()
