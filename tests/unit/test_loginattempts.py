"""Login throttling in a real Redis: growing waits per address and per name, never a lock
the real user cannot get past."""

from __future__ import annotations

from server.auth.loginattempts import (
    ADDRESS_FREE,
    MAX_DELAY_SECONDS,
    NAME_FREE_ADDRESSES,
    Attempt,
    backoff,
    record_failure,
    record_success,
    wait_seconds,
)
from server.store.connection import Redis

T = 1_800_000_000.0


def test_the_wait_doubles_up_to_a_cap() -> None:
    assert [backoff(n) for n in range(5)] == [0, 1, 2, 4, 8]
    assert backoff(20) == MAX_DELAY_SECONDS
    assert backoff(10_000) == MAX_DELAY_SECONDS


async def test_an_address_waits_longer_after_each_failure_beyond_the_free_ones(
    redis: Redis,
) -> None:
    for i in range(ADDRESS_FREE):
        attempt = Attempt(f"name-{i}", "192.0.2.7")  # spraying names counts per address
        assert await wait_seconds(redis, attempt, T) == 0
        await record_failure(redis, attempt, T)
    assert await wait_seconds(redis, Attempt("another", "192.0.2.7"), T) == 0
    await record_failure(redis, Attempt("another", "192.0.2.7"), T)
    assert await wait_seconds(redis, Attempt("third", "192.0.2.7"), T) == 1
    await record_failure(redis, Attempt("third", "192.0.2.7"), T + 1)
    assert await wait_seconds(redis, Attempt("fourth", "192.0.2.7"), T + 1) == 2
    assert await wait_seconds(redis, Attempt("fourth", "192.0.2.7"), T + 3) == 0


async def test_one_stranger_never_holds_back_the_real_user_on_another_address(
    redis: Redis,
) -> None:
    for i in range(50):
        await record_failure(redis, Attempt("Dr.Hansen", "192.0.2.7"), T + i)
    assert await wait_seconds(redis, Attempt("dr.hansen", "192.0.2.7"), T + 50) > 0
    assert await wait_seconds(redis, Attempt("dr.hansen", "198.51.100.1"), T + 50) == 0


async def test_many_addresses_on_one_name_slow_that_name_down(redis: Redis) -> None:
    for i in range(NAME_FREE_ADDRESSES + 2):
        await record_failure(redis, Attempt("dr.hansen", f"203.0.113.{i}"), T)
    assert await wait_seconds(redis, Attempt("DR.HANSEN", "198.51.100.1"), T) == 2
    assert await wait_seconds(redis, Attempt("dr.jensen", "198.51.100.1"), T) == 0
    assert await wait_seconds(redis, Attempt("dr.hansen", "198.51.100.1"), T + 2) == 0


async def test_an_address_the_name_logged_in_from_is_not_held_back_by_the_name(
    redis: Redis,
) -> None:
    await record_success(redis, Attempt("dr.hansen", "198.51.100.1"))
    for i in range(NAME_FREE_ADDRESSES + 5):
        await record_failure(redis, Attempt("dr.hansen", f"203.0.113.{i}"), T)
    assert await wait_seconds(redis, Attempt("dr.hansen", "198.51.100.2"), T) > 0
    assert await wait_seconds(redis, Attempt("dr.hansen", "198.51.100.1"), T) == 0


async def test_a_success_forgets_the_names_failures_but_not_the_addresss(redis: Redis) -> None:
    for _ in range(ADDRESS_FREE + 3):
        await record_failure(redis, Attempt("dr.hansen", "192.0.2.7"), T)
    for i in range(NAME_FREE_ADDRESSES + 3):
        await record_failure(redis, Attempt("dr.hansen", f"203.0.113.{i}"), T)
    await record_success(redis, Attempt("dr.hansen", "198.51.100.9"))
    assert await wait_seconds(redis, Attempt("dr.hansen", "198.51.100.8"), T) == 0
    assert await wait_seconds(redis, Attempt("dr.hansen", "192.0.2.7"), T) > 0
