"""How many drop-in visitors a public drop-in link takes: per client address and per clinic.

The drop-in link is public and anonymous, so each join makes a new consultation and a new
line in the GP's list. Without a limit, a script made as many lines as it liked. Joins are
counted in fixed windows of `WINDOW_SECONDS`, in Redis so every instance shares them:

- `PER_ADDRESS` joins per client address group (server.auth.clientaddress), over all
  clinics: a family at one address can bring a few people, a script cannot bring many;
- `PER_CLINIC` joins per clinic: more than an open video hour's GPs can see in that time,
  and the most a flood from many addresses can add to the list.

An address over its limit does not count against the clinic. Refused visitors get a page
(429, `Retry-After`) that gives the clinic's phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.tokens import token_hash
from server.store import keys
from server.store.connection import Redis

WINDOW_SECONDS = 10 * 60
PER_ADDRESS = 3
PER_CLINIC = 20


@dataclass(frozen=True)
class Refused:
    retry_after: int  # seconds until the window turns


def _window(at: float) -> tuple[int, int]:
    """The window's number, and the seconds left in it (at least one)."""
    window = int(at // WINDOW_SECONDS)
    return window, max(1, int((window + 1) * WINDOW_SECONDS - at))


def _keys(address: str, clinic_id: str, window: int) -> tuple[str, str]:
    # The address is stored hashed: personal data, and only equality matters here.
    return keys.dropin_address(token_hash(address), window), keys.dropin_clinic(clinic_id, window)


async def over_limit(redis: Redis, address: str, clinic_id: str, at: float) -> Refused | None:
    """Whether a join from `address` to this clinic would be refused now (counts nothing)."""
    window, left = _window(at)
    by_address, by_clinic = _keys(address, clinic_id, window)
    counts = await redis.mget([by_address, by_clinic])
    used_address, used_clinic = (int(c or 0) for c in counts)
    return Refused(left) if used_address >= PER_ADDRESS or used_clinic >= PER_CLINIC else None


async def count_join(redis: Redis, address: str, clinic_id: str, at: float) -> Refused | None:
    """Count one join; a Refused when the address or the clinic is over its limit."""
    window, left = _window(at)
    by_address, by_clinic = _keys(address, clinic_id, window)
    for key, limit in ((by_address, PER_ADDRESS), (by_clinic, PER_CLINIC)):
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 60)
            count, _ = await pipe.execute()
        if int(count) > limit:
            return Refused(left)
    return None
