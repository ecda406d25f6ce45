"""Organisations and their API keys: each organisation lists and revokes only its own."""

from __future__ import annotations

import pytest

from server.auth.tokens import token_hash
from server.store import keys
from server.store.connection import Redis
from server.store.organisations import (
    create_organisation,
    delete_organisation,
    issue_organisation_key,
    key_id,
    list_organisations,
    organisation_by_code,
    organisation_for_key,
    organisation_keys,
    revoke_organisation_key,
)
from tests.support.redisdump import stored_text


async def test_a_municipality_code_is_three_digits_and_unique(redis: Redis) -> None:
    org = await create_organisation(redis, " Københavns Kommune ", "101")
    assert org.name == "Københavns Kommune"
    assert await organisation_by_code(redis, "101") == org
    for code in ("1", "1010", "10a", ""):
        with pytest.raises(ValueError):
            await create_organisation(redis, "Kommune", code)
    with pytest.raises(ValueError):
        await create_organisation(redis, "Frederiksberg Kommune", "101")
    with pytest.raises(ValueError):
        await create_organisation(redis, "  ", "147")
    assert await list_organisations(redis) == [org]


async def test_deleting_an_organisation_frees_its_code(redis: Redis) -> None:
    org = await create_organisation(redis, "Københavns Kommune", "101")
    await delete_organisation(redis, org)
    assert await list_organisations(redis) == []
    assert await organisation_by_code(redis, "101") is None
    again = await create_organisation(redis, "Københavns Kommune", "101")
    assert await list_organisations(redis) == [again]


async def test_keys_are_listed_by_label_and_age_and_stored_hashed(redis: Redis) -> None:
    org = await create_organisation(redis, "Københavns Kommune", "101")
    first = await issue_organisation_key(redis, org.id, "Omsorgssystem")
    second = await issue_organisation_key(redis, org.id, "Kontakt Læge")
    listed = await organisation_keys(redis, org.id)
    assert [k.label for k in listed] == ["Omsorgssystem", "Kontakt Læge"]
    assert [k.id for k in listed] == [key_id(token_hash(first)), key_id(token_hash(second))]
    assert all(k.created_at > 0 for k in listed)
    stored = await stored_text(redis)
    assert first not in stored and second not in stored
    assert (await organisation_for_key(redis, first)) == org


async def test_a_revoked_key_no_longer_opens_the_door(redis: Redis) -> None:
    org = await create_organisation(redis, "Københavns Kommune", "101")
    key = await issue_organisation_key(redis, org.id, "Omsorgssystem")
    kept = await issue_organisation_key(redis, org.id, "Kontakt Læge")
    assert await revoke_organisation_key(redis, org.id, key_id(token_hash(key)))
    assert await organisation_for_key(redis, key) is None
    assert await organisation_for_key(redis, kept) == org
    assert [k.label for k in await organisation_keys(redis, org.id)] == ["Kontakt Læge"]
    assert not await revoke_organisation_key(redis, org.id, key_id(token_hash(key)))


async def test_an_organisation_cannot_revoke_another_ones_key(redis: Redis) -> None:
    ours = await create_organisation(redis, "Københavns Kommune", "101")
    theirs = await create_organisation(redis, "Aarhus Kommune", "751")
    their_key = await issue_organisation_key(redis, theirs.id, "Omsorgssystem")
    assert not await revoke_organisation_key(redis, ours.id, key_id(token_hash(their_key)))
    assert await organisation_for_key(redis, their_key) == theirs
    assert await organisation_keys(redis, ours.id) == []
    assert await redis.zcard(keys.organisation_api_keys(theirs.id)) == 1
