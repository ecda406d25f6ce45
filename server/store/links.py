"""Patient join links: a random token in the URL, stored only as its hash.

Issuing a new link revokes the previous one; the revoked record is kept until the link
would have expired anyway, so an old link answers "revoked" (410), not "unknown" (404).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.auth.tokens import new_token, token_hash
from server.clock import now
from server.consultations.linkrules import LinkState, link_state, link_window
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation

KEEP_AFTER_CLOSE = 7 * 24 * 3600


@dataclass(frozen=True)
class ResolvedLink:
    state: LinkState
    consultation: Consultation | None


async def issue_link(redis: Redis, c: Consultation) -> tuple[str, Consultation]:
    token = new_token()
    new_hash = token_hash(token)
    _, closes = link_window(c)
    ttl = max(60, int(closes - now() + KEEP_AFTER_CLOSE))
    async with redis.pipeline(transaction=True) as pipe:
        if c.link_hash:
            pipe.hset(keys.join_link(c.link_hash), "revoked", "1")
        pipe.hset(keys.join_link(new_hash), mapping={"consultation_id": c.id, "revoked": "0"})
        pipe.expire(keys.join_link(new_hash), ttl)
        pipe.hset(keys.consultation(c.id), "link_hash", new_hash)
        await pipe.execute()

    return token, replace(c, link_hash=new_hash)


async def resolve_link(redis: Redis, token: str, at: float | None = None) -> ResolvedLink:
    h = token_hash(token)
    record = await redis.hgetall(keys.join_link(h))
    if not record:
        return ResolvedLink(LinkState.UNKNOWN, None)
    c = await get_consultation(redis, record["consultation_id"])
    state = link_state(c, h, record.get("revoked") == "1", now() if at is None else at)
    return ResolvedLink(state, c)


async def revoke_link(redis: Redis, c: Consultation) -> None:
    if c.link_hash:
        await redis.hset(keys.join_link(c.link_hash), "revoked", "1")
