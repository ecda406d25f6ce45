"""Per-key request limits for the API: a fixed one-minute window counted in Redis, so all
instances share it. Over the limit: 429 `rate_limited` with `Retry-After` (seconds)."""

from __future__ import annotations

from server.api.problems import problem
from server.store import keys
from server.store.connection import Redis


async def count_request(redis: Redis, owner: str, per_minute: int, at: float) -> None:
    minute = int(at // 60)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(keys.api_rate(owner, minute))
        pipe.expire(keys.api_rate(owner, minute), 120)
        count, _ = await pipe.execute()
    if int(count) > per_minute:
        retry_after = str(max(1, 60 - int(at % 60)))
        raise problem(
            429,
            "rate_limited",
            f"more than {per_minute} requests a minute; try again in {retry_after} s",
            {"Retry-After": retry_after},
        )
