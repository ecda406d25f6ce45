"""The instance's collector policy: long-lived objects are frozen out of routine collections,
and a periodic unfreeze-and-collect still frees cycles among them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref

import pytest

from server import gcpolicy


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def run_policy(seconds: float) -> None:
    task = asyncio.create_task(gcpolicy.keep_collections_short())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_objects_are_frozen_then_cycles_freed_by_the_full_collect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gcpolicy, "FREEZE_SECONDS", 0.01)
    monkeypatch.setattr(gcpolicy, "FULL_COLLECT_SECONDS", 3600)
    try:
        gc.unfreeze()
        garbage = Cycle()
        alive = weakref.ref(garbage)
        await run_policy(0.05)
        assert gc.get_freeze_count() > 0
        del garbage
        gc.collect()
        assert alive() is not None, "a frozen cycle is out of routine collections' sight"

        monkeypatch.setattr(gcpolicy, "FULL_COLLECT_SECONDS", 0.02)
        await run_policy(0.05)  # the periodic full collect unfreezes and collects
        assert alive() is None
    finally:
        gc.unfreeze()
