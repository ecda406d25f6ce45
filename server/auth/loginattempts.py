"""Login lockout: too many failed logins for one user name lock it for a while.

Counted per user name (any case), not per address, so guessing one account's password is
slow from anywhere. Each failure renews the window: a name is locked once it has
`MAX_FAILURES` failures with no gap of `FAILURE_WINDOW_SECONDS` between them, and opens
again when a whole window passes without one. A successful login clears the count.
"""

from __future__ import annotations

from server.store import keys
from server.store.connection import Redis

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 15 * 60


async def locked(redis: Redis, username: str) -> bool:
    """Whether this name may not log in now, even with the right password."""
    return int(await redis.get(keys.login_failures(username)) or 0) >= MAX_FAILURES


async def record_failure(redis: Redis, username: str) -> None:
    key = keys.login_failures(username)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, FAILURE_WINDOW_SECONDS)
        await pipe.execute()


async def clear(redis: Redis, username: str) -> None:
    await redis.delete(keys.login_failures(username))
