"""Embed tokens: once, within 60 s, stored hashed; the session they open names the vendor."""

from __future__ import annotations

from server.auth.tokens import token_hash
from server.store import keys
from server.store.connection import Redis
from server.store.embeds import (
    EMBED_TTL_SECONDS,
    EmbedBinding,
    embed_binding,
    issue_embed,
    issuer,
    open_embed_session,
    take_embed,
)
from server.store.sessions import session_user_id
from tests.support.redisdump import stored_text

NOW = 1_780_000_000.0


async def test_a_token_works_once(redis: Redis) -> None:
    token, grant = await issue_embed(redis, "vendor-1", "consultation-1", "user-1", NOW)
    assert grant.expires_at == NOW + EMBED_TTL_SECONDS
    assert token not in await stored_text(redis)
    assert 0 < await redis.ttl(keys.embed_token(token_hash(token))) <= EMBED_TTL_SECONDS
    assert await take_embed(redis, token, NOW + 1) == grant
    assert await take_embed(redis, token, NOW + 2) is None
    assert await issuer(redis, token) == "vendor-1"  # still known, for the 410 page
    assert await issuer(redis, token + "x") is None


async def test_a_token_past_its_expiry_is_refused_even_if_still_stored(redis: Redis) -> None:
    token, _ = await issue_embed(redis, "vendor-1", "consultation-1", "user-1", NOW)
    assert await take_embed(redis, token, NOW + EMBED_TTL_SECONDS) is None


async def test_the_session_it_opens_is_the_gps_and_names_the_vendor(redis: Redis) -> None:
    token, _ = await issue_embed(redis, "vendor-1", "consultation-1", "user-1", NOW)
    grant = await take_embed(redis, token, NOW)
    assert grant is not None
    session = await open_embed_session(redis, grant, ttl_seconds=3600)
    assert await session_user_id(redis, session) == "user-1"
    assert await embed_binding(redis, session) == EmbedBinding("vendor-1", "consultation-1")
    assert await embed_binding(redis, "another-session") is None
