"""LPS vendors' API keys: shown once, stored hashed, listed by label, revocable."""

from __future__ import annotations

import pytest

from server.auth.tokens import token_hash
from server.store.connection import Redis
from server.store.vendors import (
    create_vendor,
    get_vendor,
    issue_api_key,
    list_api_keys,
    origin_problem,
    revoke_api_key,
    set_vendor_origins,
    vendor_for_key,
)
from tests.support.redisdump import stored_text


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
