"""Organisations outside the clinic (municipalities), and their API keys.

A municipality is known by its name and its three-digit municipality code (kommunekode,
e.g. 101 for København). Its staff are `User`s with `organisation_id` set. An API key lets
the organisation's own systems read the clinic directory; it is shown once, stored hashed.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass

from server.auth.tokens import new_id, new_token, token_hash
from server.store import keys
from server.store.connection import Redis

ORG_KEY_PREFIX = "avo_"
MUNICIPALITY_CODE = re.compile(r"^[0-9]{3}$")


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    municipality_code: str
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
    h = await redis.hgetall(keys.organisation(organisation_id))
    if not h:
        return None
    return Organisation(h["id"], h["name"], h["municipality_code"], float(h["created_at"]))


async def list_organisations(redis: Redis) -> list[Organisation]:
    """All organisations, by name."""
    found = [await get_organisation(redis, oid) for oid in await redis.smembers(keys.ORGANISATIONS)]
    return sorted((o for o in found if o is not None), key=lambda o: o.name)


async def issue_organisation_key(redis: Redis, organisation_id: str, label: str = "") -> str:
    key = ORG_KEY_PREFIX + new_token()
    await redis.hset(
        keys.organisation_api_key(token_hash(key)),
        mapping={
            "organisation_id": organisation_id,
            "label": label,
            "created_at": str(int(time.time())),
        },
    )
    return key


async def organisation_for_key(redis: Redis, key: str) -> Organisation | None:
    if not key.startswith(ORG_KEY_PREFIX) or len(key) > 120:
        return None
    oid = await redis.hget(keys.organisation_api_key(token_hash(key)), "organisation_id")
    return await get_organisation(redis, oid) if oid else None
