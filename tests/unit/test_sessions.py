"""Sessions: one closes alone, or all of a user's close at once."""

from __future__ import annotations

from server.store import keys
from server.store.connection import Redis
from server.store.sessions import (
    close_session,
    close_user_sessions,
    open_session,
    session_user_id,
)


async def test_closing_one_session_leaves_the_others(redis: Redis) -> None:
    phone = await open_session(redis, "u1", 60)
    laptop = await open_session(redis, "u1", 60)
    await close_session(redis, phone)
    assert await session_user_id(redis, phone) is None
    assert await session_user_id(redis, laptop) == "u1"
    assert await redis.scard(keys.user_sessions("u1")) == 1


async def test_closing_a_users_sessions_closes_only_theirs(redis: Redis) -> None:
    phone = await open_session(redis, "u1", 60)
    laptop = await open_session(redis, "u1", 60)
    other = await open_session(redis, "u2", 60)
    await close_user_sessions(redis, "u1")
    assert await session_user_id(redis, phone) is None
    assert await session_user_id(redis, laptop) is None
    assert await session_user_id(redis, other) == "u2"
    assert not await redis.exists(keys.user_sessions("u1"))


async def test_the_index_expires_with_the_sessions(redis: Redis) -> None:
    await open_session(redis, "u1", 60)
    assert 0 < await redis.ttl(keys.user_sessions("u1")) <= 60
