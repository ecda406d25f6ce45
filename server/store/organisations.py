"""Organisations outside the clinic (municipalities), and their API keys.

A municipality is known by its name and its three-digit municipality code (kommunekode,
e.g. 101 for København). Its staff are `User`s with `organisation_id` set. An API key lets
the organisation's own systems read the clinic directory; it is shown once, stored hashed.
A key is named on screen by a short prefix of its hash (`key_id`), which says nothing about
the key itself, and each organisation keeps the hashes of its own keys, so it can list and
revoke them and never another organisation's.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass

from server.auth.tokens import new_id, new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis

ORG_KEY_PREFIX = "avo_"
MUNICIPALITY_CODE = re.compile(r"^[0-9]{3}$")
KEY_ID_LENGTH = 12


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    municipality_code: str
    created_at: float


@dataclass(frozen=True)
class OrganisationKey:
    id: str
    label: str
    created_at: float


async def create_organisation(redis: Redis, name: str, municipality_code: str) -> Organisation:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("an organisation needs a name of at most 200 characters")
    if not MUNICIPALITY_CODE.match(municipality_code):
        raise ValueError("a municipality code is three digits")
    org = Organisation(new_id(), name, municipality_code, time.time())
    if not await redis.set(keys.organisation_by_code(municipality_code), org.id, nx=True):
        raise ValueError(f"municipality code {municipality_code} is taken")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.organisation(org.id), mapping={k: str(v) for k, v in asdict(org).items()})
        pipe.sadd(keys.ORGANISATIONS, org.id)
        await pipe.execute()
    return org


async def get_organisation(redis: Redis, organisation_id: str) -> Organisation | None:
    h = decoded.fields(await redis.hgetall(keys.organisation(organisation_id)))
    if not h:
        return None
    return Organisation(h["id"], h["name"], h["municipality_code"], float(h["created_at"]))


async def list_organisations(redis: Redis) -> list[Organisation]:
    """All organisations, by name."""
    found = [
        await get_organisation(redis, oid)
        for oid in decoded.members(await redis.smembers(keys.ORGANISATIONS))
    ]
    return sorted((o for o in found if o is not None), key=lambda o: o.name)


async def delete_organisation(redis: Redis, org: Organisation) -> None:
    """Undo `create_organisation` when its first admin cannot be made. Only for an
    organisation that has no staff or keys yet."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.organisation(org.id))
        pipe.delete(keys.organisation_by_code(org.municipality_code))
        pipe.srem(keys.ORGANISATIONS, org.id)
        await pipe.execute()


async def organisation_by_code(redis: Redis, municipality_code: str) -> Organisation | None:
    oid = decoded.text(await redis.get(keys.organisation_by_code(municipality_code)))
    return await get_organisation(redis, oid) if oid else None


async def staff_count(redis: Redis, organisation_id: str) -> int:
    return int(await redis.scard(keys.organisation_users(organisation_id)))


def key_id(hashed: str) -> str:
    return hashed[:KEY_ID_LENGTH]


async def issue_organisation_key(redis: Redis, organisation_id: str, label: str = "") -> str:
    key = ORG_KEY_PREFIX + new_token()
    hashed, created_at = token_hash(key), time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.organisation_api_key(hashed),
            mapping={
                "organisation_id": organisation_id,
                "label": label,
                "created_at": str(created_at),
            },
        )
        pipe.zadd(keys.organisation_api_keys(organisation_id), {hashed: created_at})
        await pipe.execute()
    return key


async def organisation_keys(redis: Redis, organisation_id: str) -> list[OrganisationKey]:
    """The organisation's API keys, oldest first."""
    found = []
    for hashed in decoded.strings(
        await redis.zrange(keys.organisation_api_keys(organisation_id), 0, -1)
    ):
        h = decoded.fields(await redis.hgetall(keys.organisation_api_key(hashed)))
        if h:
            found.append(OrganisationKey(key_id(hashed), h["label"], float(h["created_at"])))
    return found


async def revoke_organisation_key(redis: Redis, organisation_id: str, wanted: str) -> bool:
    """Revoke the organisation's own key with this id; False if it has none such."""
    for hashed in decoded.strings(
        await redis.zrange(keys.organisation_api_keys(organisation_id), 0, -1)
    ):
        if key_id(hashed) == wanted:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.organisation_api_key(hashed))
                pipe.zrem(keys.organisation_api_keys(organisation_id), hashed)
                await pipe.execute()
            return True
    return False


async def organisation_for_key(redis: Redis, key: str) -> Organisation | None:
    if not key.startswith(ORG_KEY_PREFIX) or len(key) > 120:
        return None
    oid = decoded.text(
        await redis.hget(keys.organisation_api_key(token_hash(key)), "organisation_id")
    )
    return await get_organisation(redis, oid) if oid else None
