"""Drop-in limits in a real Redis: per address over all clinics, per clinic over all
addresses, in fixed windows."""

from __future__ import annotations

from server.store.connection import Redis
from server.waitingroom.dropinlimit import (
    PER_ADDRESS,
    PER_CLINIC,
    WINDOW_SECONDS,
    count_join,
    over_limit,
)

T = 1_800_000_000.0 - 1_800_000_000.0 % WINDOW_SECONDS  # the start of a window


async def test_an_address_is_limited_over_all_clinics(redis: Redis) -> None:
    for i in range(PER_ADDRESS):
        assert await count_join(redis, "192.0.2.1", f"clinic-{i}", T) is None
    refused = await count_join(redis, "192.0.2.1", "clinic-x", T + 60)
    assert refused is not None and refused.retry_after == WINDOW_SECONDS - 60
    assert await over_limit(redis, "192.0.2.1", "clinic-y", T + 60) is not None
    assert await over_limit(redis, "192.0.2.2", "clinic-y", T + 60) is None
    assert await count_join(redis, "192.0.2.1", "clinic-x", T + WINDOW_SECONDS) is None


async def test_an_address_over_its_limit_does_not_use_up_the_clinic(redis: Redis) -> None:
    for _ in range(PER_CLINIC * 2):
        await count_join(redis, "192.0.2.1", "clinic", T)
    assert await count_join(redis, "192.0.2.2", "clinic", T) is None


async def test_a_clinic_is_limited_over_all_addresses(redis: Redis) -> None:
    for i in range(PER_CLINIC):
        assert await count_join(redis, f"198.51.100.{i}", "clinic", T) is None
    assert await over_limit(redis, "203.0.113.1", "clinic", T) is not None
    assert await count_join(redis, "203.0.113.1", "clinic", T) is not None
    assert await count_join(redis, "203.0.113.1", "elsewhere", T) is None
