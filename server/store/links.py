"""Patient join links in Redis, each kept under the hash of its token, never the token.

Saving a new link revokes the previous one; the revoked record is kept for as long as the
caller says (`linkrules.link_ttl`), so an old link answers "revoked" (410), not "unknown"
(404). Whether a link works is for `server.consultations.links` to say.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation


@dataclass(frozen=True)
class LinkRecord:
    consultation_id: str
    revoked: bool


async def save_link(redis: Redis, c: Consultation, link_hash: str, ttl: int) -> Consultation:
    """Make `link_hash` the consultation's link for `ttl` seconds, revoking the one before."""
    async with redis.pipeline(transaction=True) as pipe:
        if c.link_hash:
            pipe.hset(keys.join_link(c.link_hash), "revoked", "1")
        pipe.hset(keys.join_link(link_hash), mapping={"consultation_id": c.id, "revoked": "0"})
        pipe.expire(keys.join_link(link_hash), ttl)
        pipe.hset(keys.consultation(c.id), "link_hash", link_hash)
        await pipe.execute()
    return replace(c, link_hash=link_hash)


async def get_link(redis: Redis, link_hash: str) -> LinkRecord | None:
    record = decoded.fields(await redis.hgetall(keys.join_link(link_hash)))
    if not record:
        return None
    return LinkRecord(record["consultation_id"], record.get("revoked") == "1")


async def revoke_link(redis: Redis, c: Consultation) -> None:
    if c.link_hash:
        await redis.hset(keys.join_link(c.link_hash), "revoked", "1")
