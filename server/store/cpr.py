"""CPR numbers: never kept. A booking may carry one (to match the LPS's patient); we keep
only HMAC-SHA256 under a key made once per deployment and held in Redis, so equal numbers
match without the number being recoverable from the hash by trying all ~10^10 of them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from server.store import decoded, keys
from server.store.connection import Redis

CPR = re.compile(r"^[0-9]{6}-?[0-9]{4}$")


async def cpr_hash(redis: Redis, cpr: str) -> str:
    digits = cpr.replace("-", "")
    await redis.set(keys.CPR_PEPPER, secrets.token_hex(32), nx=True)
    pepper = decoded.text(await redis.get(keys.CPR_PEPPER))
    assert pepper is not None
    return hmac.new(bytes.fromhex(pepper), digits.encode(), hashlib.sha256).hexdigest()
