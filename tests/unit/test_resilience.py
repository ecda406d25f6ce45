"""Background loops go on after errors, and still stop when cancelled."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from server.resilience import pause_after_error, stop_if_cancelled


async def looping(step: asyncio.Event, work: object) -> None:
    while True:
        stop_if_cancelled()
        try:
            step.set()
            await work()  # type: ignore[operator]
        except Exception:
            await pause_after_error("test loop", seconds=0.01)


async def test_an_error_is_retried() -> None:
    calls = 0
    third = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            third.set()
        raise ConnectionError("Redis is restarting")

    task = asyncio.create_task(looping(asyncio.Event(), flaky))
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancellation_that_surfaces_as_an_error_still_ends_the_loop() -> None:
    async def disguising() -> None:
        """Like a client library that reports its interrupted read as a connection error."""
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionError("Connection closed") from None

    started = asyncio.Event()
    task = asyncio.create_task(looping(started, disguising))
    await started.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_a_cancellation_swallowed_whole_still_ends_the_loop() -> None:
    async def swallowing() -> None:
        """Like a client library whose interrupted read answers "nothing yet"."""
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(10)

    started = asyncio.Event()
    task = asyncio.create_task(looping(started, swallowing))
    await started.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
