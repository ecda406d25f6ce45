"""Everything a Redis holds, as text: for asserting that a secret is stored nowhere."""

from __future__ import annotations

from server.store.connection import Redis


async def stored_text(redis: Redis) -> str:
    parts: list[str] = []
    async for name in redis.scan_iter("*"):
        parts.append(name)
        kind = await redis.type(name)
        if kind == "string":
            parts.append(await redis.get(name) or "")
        elif kind == "hash":
            parts.extend(f"{k}={v}" for k, v in (await redis.hgetall(name)).items())
        elif kind == "set":
            parts.extend(await redis.smembers(name))
        elif kind == "zset":
            parts.extend(await redis.zrange(name, 0, -1))
        elif kind == "list":
            parts.extend(await redis.lrange(name, 0, -1))
        elif kind == "stream":
            parts.extend(str(fields) for _, fields in await redis.xrange(name))
    return "\n".join(parts)
