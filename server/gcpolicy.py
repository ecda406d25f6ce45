"""Garbage-collector policy for an instance holding thousands of sockets.

A full (generation 2) collection walks every tracked object; with 10,000 waiting patients
that is over a second in which nothing else runs, and an admit waits. Long-lived objects
(sessions, sockets, subscriptions) are therefore moved out of the collector's sight every
minute with `gc.freeze()`, so routine collections only walk what is new. Reference counting
still frees ordinary garbage at once; only reference cycles among frozen objects wait, until
the hourly unfreeze-and-collect bounds them.
"""

from __future__ import annotations

import asyncio
import gc

FREEZE_SECONDS = 60
FULL_COLLECT_SECONDS = 3600


async def keep_collections_short() -> None:
    since_full = 0.0
    while True:
        await asyncio.sleep(FREEZE_SECONDS)
        since_full += FREEZE_SECONDS
        if since_full >= FULL_COLLECT_SECONDS:
            gc.unfreeze()
            gc.collect()
            since_full = 0.0
        gc.freeze()
