"""Logged-in professional sessions: an opaque cookie token, stored hashed with a TTL."""

from __future__ import annotations

from server.auth.tokens import new_token, token_hash
from server.store import keys
from server.store.connection import Redis


async def open_session(redis: Redis, user_id: str, ttl_seconds: int) -> str:
    token = new_token()
    await redis.set(keys.session(token_hash(token)), user_id, ex=ttl_seconds)
    return token


async def session_user_id(redis: Redis, token: str) -> str | None:
    return await redis.get(keys.session(token_hash(token)))


async def close_session(redis: Redis, token: str) -> None:
    await redis.delete(keys.session(token_hash(token)))
