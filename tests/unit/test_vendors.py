"""LPS vendors: API keys shown once, stored hashed, revocable; which clinics a vendor serves
is the one dated record the invoices read too; the store refuses impossible values."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from server.auth.tokens import token_hash
from server.pilots.invoices import MAX_CAPACITIES, MAX_PRICE_ORE
from server.store import keys
from server.store.connection import Redis
from server.store.subscriptions import (
    capacity_history,
    price_list,
    set_capacities,
    set_price,
    set_vendor,
    vendor_history,
)
from server.store.vendors import (
    create_vendor,
    get_vendor,
    issue_api_key,
    list_api_keys,
    origin_problem,
    revoke_api_key,
    served_clinics,
    set_vendor_origins,
    today,
    vendor_for_key,
)
from tests.support.redisdump import stored_text
from tests.unit.factories import make_clinic


async def test_a_key_is_stored_only_as_its_hash(redis: Redis) -> None:
    vendor = await create_vendor(redis, "Test-LPS", ["clinic-1"], ["https://lps.example"])
    key = await issue_api_key(redis, vendor.id, label="production")
    assert key.startswith("avk_")
    everything = await stored_text(redis)
    assert key not in everything
    assert token_hash(key) in everything
    found = await vendor_for_key(redis, key)
    assert found is not None
    assert (found.id, found.clinic_ids, found.origins) == (
        vendor.id, ("clinic-1",), ("https://lps.example",),
    )  # fmt: skip
    assert await vendor_for_key(redis, key + "x") is None


async def test_revoking_one_key_leaves_the_others_working(redis: Redis) -> None:
    vendor = await create_vendor(redis, "Test-LPS", ["clinic-1"])
    old = await issue_api_key(redis, vendor.id, label="old")
    new = await issue_api_key(redis, vendor.id, label="new")
    listed = await list_api_keys(redis, vendor.id)
    assert [k.label for k in listed] == ["old", "new"]
    assert await revoke_api_key(redis, vendor.id, listed[0].id)
    assert await vendor_for_key(redis, old) is None
    assert await vendor_for_key(redis, new) is not None
    assert [k.label for k in await list_api_keys(redis, vendor.id)] == ["new"]
    assert not await revoke_api_key(redis, vendor.id, listed[0].id)  # already gone
    other = await create_vendor(redis, "Other LPS", ["clinic-2"])
    assert not await revoke_api_key(redis, other.id, listed[1].id)  # not theirs
    assert await vendor_for_key(redis, new) is not None


async def test_origins_that_may_frame_the_embedded_view(redis: Redis) -> None:
    vendor = await create_vendor(redis, "Test-LPS", ["clinic-1"])
    good = ["https://lps.example", "https://lps.example:8443", "http://127.0.0.1:8090"]
    await set_vendor_origins(redis, vendor.id, good)
    found = await get_vendor(redis, vendor.id)
    assert found is not None and found.origins == tuple(good)
    for bad in (
        "https://lps.example/",  # a path
        "http://lps.example",  # plain http beyond this machine
        "https://lps.example; script-src *",  # would smuggle a directive into the CSP
        "*",
        "'self'",
        "https://user@lps.example",
        "https://lps.example:443",  # the default port is spelt without it
    ):
        assert origin_problem(bad) is not None, bad
        with pytest.raises(ValueError):
            await set_vendor_origins(redis, vendor.id, [*good, bad])


async def test_which_vendor_serves_a_clinic_is_one_record_for_invoices_and_the_api(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    old = await create_vendor(redis, "Journal A/S", [clinic.id])
    new = await create_vendor(redis, "Praksis Data", [])
    assert await vendor_history(redis, clinic.id) == {today(): old.id}  # invoices see it too
    assert await clinic_ids_of(redis, old.id) == (clinic.id,)

    await set_vendor(redis, "admin", clinic.id, today(), new.id)  # the switch, on the page
    assert await clinic_ids_of(redis, old.id) == ()  # the old vendor's API lost the clinic
    assert await clinic_ids_of(redis, new.id) == (clinic.id,)
    await set_vendor(redis, "admin", clinic.id, today() + timedelta(days=30), old.id)
    assert await clinic_ids_of(redis, new.id) == (clinic.id,)  # a coming switch waits its day
    assert await served_clinics(redis, old.id, today() + timedelta(days=30)) == (clinic.id,)


async def test_a_vendor_kept_by_an_older_version_moves_its_clinics_into_the_record(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    vendor = await create_vendor(redis, "Journal A/S", [])
    await redis.hset(keys.vendor(vendor.id), "clinic_ids", json.dumps([clinic.id]))
    assert await clinic_ids_of(redis, vendor.id) == (clinic.id,)
    assert not await redis.hexists(keys.vendor(vendor.id), "clinic_ids")
    assert await vendor_history(redis, clinic.id) == {today(): vendor.id}


async def test_the_store_refuses_impossible_prices_capacities_and_vendors(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    for price in (0, -1, -12_000, MAX_PRICE_ORE + 1):
        with pytest.raises(ValueError):
            await set_price(redis, "cli", date(2026, 7, 1), price)
    with pytest.raises(ValueError):
        await set_price(redis, "cli", date(2026, 7, 2), 12_000)  # not a month's first day
    for capacities in (-1, -5, MAX_CAPACITIES + 1):
        with pytest.raises(ValueError):
            await set_capacities(redis, "cli", clinic.id, date(2026, 1, 1), capacities)
    with pytest.raises(ValueError):
        await set_vendor(redis, "cli", clinic.id, date(2026, 1, 1), "no-such-vendor")
    assert await capacity_history(redis, clinic.id) == {}
    assert await vendor_history(redis, clinic.id) == {}
    assert list((await price_list(redis)).values()) == [12_000]
    await set_capacities(redis, "cli", clinic.id, date(2026, 1, 1), 0)  # 0 is allowed
    assert await capacity_history(redis, clinic.id) == {date(2026, 1, 1): 0}


async def clinic_ids_of(redis: Redis, vendor_id: str) -> tuple[str, ...]:
    found = await get_vendor(redis, vendor_id)
    assert found is not None
    return found.clinic_ids
