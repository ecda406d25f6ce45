from __future__ import annotations

import pytest

from server.auth.tokens import token_hash
from server.store import keys
from server.store.clinics import (
    create_clinic,
    find_clinic,
    get_clinic,
    issue_dropin_link,
    list_clinics,
    resolve_dropin_link,
    save_clinic,
)
from server.store.connection import Redis

HOURS = {"mon": [("08:00", "09:00"), ("13:00", "14:00")], "sun": [("00:00", "24:00")]}


async def test_roundtrip_with_hours(redis: Redis) -> None:
    clinic = await create_clinic(redis, "Lægehuset Ærø", "123456", "+45 1234", HOURS)
    assert await get_clinic(redis, clinic.id) == clinic
    stored = await get_clinic(redis, clinic.id)
    assert stored is not None
    assert stored.dropin_hours == HOURS


async def test_ydernummer_is_unique(redis: Redis) -> None:
    await create_clinic(redis, "A", "123456")
    with pytest.raises(ValueError, match="123456"):
        await create_clinic(redis, "B", "123456")


async def test_missing_clinic(redis: Redis) -> None:
    assert await get_clinic(redis, "nope") is None


async def test_dropin_link_is_stored_as_a_hash(redis: Redis) -> None:
    clinic = await create_clinic(redis, "A", "123456")
    token = await issue_dropin_link(redis, clinic.id)
    assert await resolve_dropin_link(redis, token) == clinic.id
    assert await redis.get(keys.dropin_link(token_hash(token))) == clinic.id
    assert not await redis.exists(keys.dropin_link(token))
    assert await resolve_dropin_link(redis, token + "x") is None


async def test_waiting_room_limits_roundtrip(redis: Redis) -> None:
    clinic = await create_clinic(
        redis, "A", "123456", "+45 1234", wait_limit_minutes=15, wait_alert_minutes=5
    )
    stored = await get_clinic(redis, clinic.id)
    assert stored is not None
    assert (stored.wait_limit_minutes, stored.wait_alert_minutes) == (15, 5)


async def test_a_record_from_before_the_limits_still_loads(redis: Redis) -> None:
    clinic = await create_clinic(redis, "A", "123456")
    await redis.hdel(keys.clinic(clinic.id), "wait_limit_minutes", "wait_alert_minutes")
    stored = await get_clinic(redis, clinic.id)
    assert stored is not None
    assert (stored.wait_limit_minutes, stored.wait_alert_minutes) == (0, 10)


async def test_directory_fields_roundtrip(redis: Redis) -> None:
    clinic = await create_clinic(
        redis, "A", "123456", "+45 86 15 00 00",
        back_door_phone="+45 86 15 00 11", address="Nørregade 1, 1165 København K",
        opening_hours={"mon": [("08:00", "16:00")]},
    )  # fmt: skip
    assert await get_clinic(redis, clinic.id) == clinic
    assert await find_clinic(redis, "123456") == clinic
    assert await find_clinic(redis, "654321") is None


async def test_a_record_from_before_the_directory_still_loads(redis: Redis) -> None:
    clinic = await create_clinic(redis, "A", "123456", dropin_hours=HOURS)
    await redis.hdel(keys.clinic(clinic.id), "back_door_phone", "address", "opening_hours")
    stored = await get_clinic(redis, clinic.id)
    assert stored is not None
    assert (stored.back_door_phone, stored.address, stored.opening_hours) == ("", "", {})
    assert stored.dropin_hours == HOURS


async def test_every_clinic_is_listed_for_the_search(redis: Redis) -> None:
    a = await create_clinic(redis, "A", "123456")
    b = await create_clinic(redis, "B", "123457")
    assert await redis.smembers(keys.CLINICS) == {a.id, b.id}
    assert sorted(await list_clinics(redis), key=lambda c: c.name) == [a, b]
    # A clinic made before the list existed joins it when it is next saved.
    await redis.srem(keys.CLINICS, a.id)
    assert await list_clinics(redis) == [b]
    await save_clinic(redis, a)
    assert await redis.smembers(keys.CLINICS) == {a.id, b.id}
