"""Background loops that outlive errors (Redis restarting, a vendor's endpoint failing) but
never their own cancellation.

A client library may turn the CancelledError of an interrupted call into an error of its own,
or into an empty answer. A loop that carried on would keep the app from shutting down, so the
loops also ask the task itself whether it is being cancelled.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def stop_if_cancelled() -> None:
    """Raise CancelledError if someone asked to cancel this task, whatever became of it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def pause_after_error(what: str, seconds: float = 1.0) -> None:
    """Call from `except Exception:` in a loop: log the error and wait before trying again,
    unless the error is a cancellation in disguise."""
    stop_if_cancelled()
    log.exception("%s failed; retrying", what)
    await asyncio.sleep(seconds)
