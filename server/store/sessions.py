"""Logged-in professional sessions: an opaque cookie token, stored hashed with a TTL.

Each user's session hashes are also kept in a set, so removing an account or resetting its
password ends every session it has open.
"""

from __future__ import annotations

from server.auth.tokens import new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis


async def open_session(redis: Redis, user_id: str, ttl_seconds: int) -> str:
    token = new_token()
    hashed = token_hash(token)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.session(hashed), user_id, ex=ttl_seconds)
        pipe.sadd(keys.user_sessions(user_id), hashed)
        pipe.expire(keys.user_sessions(user_id), ttl_seconds)
        await pipe.execute()
    return token


async def session_user_id(redis: Redis, token: str) -> str | None:
    return decoded.text(await redis.get(keys.session(token_hash(token))))


async def session_alive(redis: Redis, hashed: str, user_id: str) -> bool:
    """Whether the session with this hash is still open, for this user."""
    return decoded.text(await redis.get(keys.session(hashed))) == user_id


async def close_session(redis: Redis, token: str) -> None:
    hashed = token_hash(token)
    user_id = decoded.text(await redis.getdel(keys.session(hashed)))
    if user_id:
        await redis.srem(keys.user_sessions(user_id), hashed)


async def close_user_sessions(redis: Redis, user_id: str) -> None:
    hashes = decoded.members(await redis.smembers(keys.user_sessions(user_id)))
    await redis.delete(keys.user_sessions(user_id), *(keys.session(h) for h in hashes))
