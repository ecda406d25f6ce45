"""Checking passwords off the event loop, with a bounded queue.

One scrypt check takes about a tenth of a second of CPU (more on a loaded machine). Run on
the event loop, every failed login would stall every socket and page of the instance for
that long, so a handful of anonymous logins could freeze a GP's call. Checks run in a small
thread pool instead (hashlib releases the GIL while it hashes), and at most `max_waiting`
may wait for a thread: beyond that the login is refused at once as `Busy` (the page says
to try again in a moment) rather than queued without end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from server.auth.passwords import verify_password

WORKERS = 2
MAX_WAITING = 16


class Busy(Exception):
    """Too many password checks already queued: try again shortly."""


class PasswordChecker:
    def __init__(self, workers: int = WORKERS, max_waiting: int = MAX_WAITING) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password")
        self._slots = workers + max_waiting
        self._pending = 0

    async def verify(self, password: str, stored: str) -> bool:
        if self._pending >= self._slots:
            raise Busy
        loop = asyncio.get_running_loop()
        job = self._pool.submit(verify_password, password, stored)
        self._pending += 1
        # The slot is freed when the check is done, not when its asker stops waiting: a
        # client that hangs up must not leave its check running outside the count.
        job.add_done_callback(lambda _: _call_soon(loop, self._release))
        return await asyncio.wrap_future(job)

    def _release(self) -> None:
        self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop already closed, at shutdown
        loop.call_soon_threadsafe(callback)
