"""Login lockout in a real Redis: ten failures lock a name (any case), a success clears the
count, and the count lapses a window after the last failure."""

from __future__ import annotations

from server.auth.loginattempts import (
    FAILURE_WINDOW_SECONDS,
    MAX_FAILURES,
    clear,
    locked,
    record_failure,
)
from server.store import keys
from server.store.connection import Redis


async def test_the_tenth_failure_locks_the_name_in_any_case(redis: Redis) -> None:
    for _ in range(MAX_FAILURES - 1):
        await record_failure(redis, "Dr.Hansen")
    assert not await locked(redis, "dr.hansen")
    await record_failure(redis, "DR.HANSEN")
    assert await locked(redis, "dr.hansen")
    assert not await locked(redis, "dr.jensen")


async def test_clearing_opens_the_name_again(redis: Redis) -> None:
    for _ in range(MAX_FAILURES):
        await record_failure(redis, "dr.hansen")
    await clear(redis, "dr.hansen")
    assert not await locked(redis, "dr.hansen")


async def test_each_failure_renews_the_window(redis: Redis) -> None:
    key = keys.login_failures("dr.hansen")
    await record_failure(redis, "dr.hansen")
    await redis.expire(key, 5)
    await record_failure(redis, "dr.hansen")
    assert FAILURE_WINDOW_SECONDS - 5 < await redis.ttl(key) <= FAILURE_WINDOW_SECONDS
    assert MAX_FAILURES == 10 and FAILURE_WINDOW_SECONDS == 15 * 60  # the policy, unchanged
