"""CPR numbers: never kept. A booking may carry one (to match the LPS's patient); we keep
only a keyed hash (`server.auth.cprkey`), under a key that never enters Redis.

Until the key moved out, it lived in Redis beside the hashes (`keys.LEGACY_CPR_PEPPER`),
which made those hashes reversible from any dump. `forget_old_hashes` deletes that key and
every hash not made under the current one: a hash cannot be re-keyed without its number,
and recovering the numbers would be the very attack the move prevents.
"""

from __future__ import annotations

import re

from server.store import decoded, keys
from server.store.connection import Redis

CPR = re.compile(r"^[0-9]{6}-?[0-9]{4}$")


async def forget_old_hashes(redis: Redis, key_id: str) -> int:
    """Delete the old in-Redis key and clear every consultation's CPR hash that the key
    `key_id` did not make; returns how many were cleared."""
    await redis.delete(keys.LEGACY_CPR_PEPPER)
    cleared = 0
    async for raw in redis.scan_iter(match=keys.consultation("*"), count=500):
        name = decoded.text(raw)
        if name is None or name.count(":") != keys.consultation("x").count(":"):
            continue  # a consultation's sub-key (messages, note, ...)
        found = decoded.text(await redis.hget(name, "cpr_hash"))
        if found and not found.startswith(f"{key_id}:"):
            await redis.hset(name, "cpr_hash", "")
            cleared += 1
    return cleared
