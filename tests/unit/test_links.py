"""Join links: stored only as hashes; a new link revokes the old one."""

from __future__ import annotations

from server.auth.tokens import token_hash
from server.clock import now
from server.consultations.linkrules import KEEP_AFTER_CLOSE, LinkState, link_window
from server.consultations.links import issue_link, resolve_link
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.links import revoke_link
from tests.unit.factories import make_clinic, make_drop_in, make_scheduled


async def test_issue_and_resolve(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    token, c = await issue_link(redis, c)
    assert c.link_hash == token_hash(token)
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert stored.link_hash == c.link_hash
    resolved = await resolve_link(redis, token)
    assert resolved.state is LinkState.OK
    assert resolved.consultation is not None
    assert resolved.consultation.id == c.id


async def test_only_the_hash_is_stored(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    token, _ = await issue_link(redis, c)
    assert await redis.exists(keys.join_link(token_hash(token)))
    async for key in redis.scan_iter():
        assert token not in key
        kind = await redis.type(key)
        if kind == "hash":
            assert token not in str(await redis.hgetall(key))
        elif kind == "string":
            assert token not in str(await redis.get(key))


async def test_link_record_expires_a_week_after_the_window(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis), minutes_from_now=60)
    token, c = await issue_link(redis, c)
    _, closes = link_window(c)
    ttl = await redis.ttl(keys.join_link(token_hash(token)))
    expected = closes - now() + KEEP_AFTER_CLOSE
    assert expected - 5 <= ttl <= expected + 1


async def test_unknown_token(redis: Redis) -> None:
    resolved = await resolve_link(redis, "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE")
    assert resolved.state is LinkState.UNKNOWN
    assert resolved.consultation is None


async def test_reissue_revokes_the_old_link(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    old, c = await issue_link(redis, c)
    new, c = await issue_link(redis, c)
    assert old != new
    assert (await resolve_link(redis, old)).state is LinkState.REVOKED
    assert (await resolve_link(redis, new)).state is LinkState.OK


async def test_reissue_from_a_stale_copy_still_revokes(redis: Redis) -> None:
    # Only the link the consultation names now works, even if the caller's copy is old.
    c = await make_scheduled(redis, await make_clinic(redis))
    first, stale = await issue_link(redis, c)
    second, _ = await issue_link(redis, stale)
    third, _ = await issue_link(redis, stale)
    assert (await resolve_link(redis, first)).state is LinkState.REVOKED
    assert (await resolve_link(redis, second)).state is LinkState.REVOKED
    assert (await resolve_link(redis, third)).state is LinkState.OK


async def test_revoke_link(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    token, c = await issue_link(redis, c)
    await revoke_link(redis, c)
    assert (await resolve_link(redis, token)).state is LinkState.REVOKED


async def test_states_follow_the_consultation(redis: Redis) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    token, c = await issue_link(redis, c)
    opens, closes = link_window(c)
    assert (await resolve_link(redis, token, at=opens - 1)).state is LinkState.NOT_YET
    assert (await resolve_link(redis, token, at=closes + 1)).state is LinkState.EXPIRED
    await update_consultation(redis, c, status=Status.CANCELLED)
    assert (await resolve_link(redis, token)).state is LinkState.CANCELLED


async def test_drop_in_link(redis: Redis) -> None:
    c = await make_drop_in(redis, await make_clinic(redis))
    token, c = await issue_link(redis, c)
    assert (await resolve_link(redis, token)).state is LinkState.OK
    assert (await resolve_link(redis, token, at=c.created_at + 13 * 3600)).state is (
        LinkState.EXPIRED
    )
