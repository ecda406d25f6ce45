"""LPS vendors and their API keys. A key is shown once and stored only as a hash."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from server.auth.tokens import new_id, new_token, token_hash
from server.store import keys
from server.store.connection import Redis

API_KEY_PREFIX = "avk_"


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    clinic_ids: tuple[str, ...]
    origins: tuple[str, ...]


async def create_vendor(
    redis: Redis, name: str, clinic_ids: list[str], origins: list[str] | None = None
) -> Vendor:
    vendor = Vendor(new_id(), name, tuple(clinic_ids), tuple(origins or ()))
    await redis.hset(
        keys.vendor(vendor.id),
        mapping={
            "id": vendor.id,
            "name": name,
            "clinic_ids": json.dumps(clinic_ids),
            "origins": json.dumps(list(vendor.origins)),
        },
    )
    return vendor


async def get_vendor(redis: Redis, vendor_id: str) -> Vendor | None:
    h = await redis.hgetall(keys.vendor(vendor_id))
    if not h:
        return None
    return Vendor(
        h["id"], h["name"], tuple(json.loads(h["clinic_ids"])), tuple(json.loads(h["origins"]))
    )


async def issue_api_key(redis: Redis, vendor_id: str, label: str = "") -> str:
    key = API_KEY_PREFIX + new_token()
    await redis.hset(
        keys.api_key(token_hash(key)),
        mapping={"vendor_id": vendor_id, "label": label, "created_at": str(int(time.time()))},
    )
    return key


async def vendor_for_key(redis: Redis, key: str) -> Vendor | None:
    vendor_id = await redis.hget(keys.api_key(token_hash(key)), "vendor_id")
    return await get_vendor(redis, vendor_id) if vendor_id else None
