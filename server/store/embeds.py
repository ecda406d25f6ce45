"""Embed sessions: how an LPS opens a GP's console view inside its own window.

The vendor asks for a token bound to one GP and one consultation; the token is stored only
as a hash, lives 60 s, and is taken with GETDEL on first use, so a second opening (or a
racing twin) finds nothing. Opening it starts an ordinary GP session, plus a binding that
names the vendor, so the session's pages may be framed by that vendor's origins only.

The session is not a login: it opens the embedded view of its one consultation and what
that view needs (server.auth.web), for the length of the call. It lapses
`AFTER_CALL_SECONDS` after the consultation ends or is cancelled (time to review the
note-taker's draft), and at the latest `EMBED_SESSION_SECONDS` after it was opened.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from server.auth.tokens import new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation, Status
from server.store.sessions import open_session

EMBED_TTL_SECONDS = 60
ISSUED_TTL_SECONDS = 24 * 3600
EMBED_SESSION_SECONDS = 4 * 3600
AFTER_CALL_SECONDS = 30 * 60


@dataclass(frozen=True)
class EmbedGrant:
    vendor_id: str
    consultation_id: str
    user_id: str
    expires_at: float  # unix seconds


@dataclass(frozen=True)
class EmbedBinding:
    vendor_id: str
    consultation_id: str


async def issue_embed(
    redis: Redis, vendor_id: str, consultation_id: str, user_id: str, now: float
) -> tuple[str, EmbedGrant]:
    token = new_token()
    hashed = token_hash(token)
    grant = EmbedGrant(vendor_id, consultation_id, user_id, now + EMBED_TTL_SECONDS)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.embed_token(hashed), json.dumps(asdict(grant)), ex=EMBED_TTL_SECONDS)
        pipe.set(keys.embed_issued(hashed), vendor_id, ex=ISSUED_TTL_SECONDS)
        await pipe.execute()
    return token, grant


async def take_embed(redis: Redis, token: str, now: float) -> EmbedGrant | None:
    """The grant, once: None when the token is unknown, used or expired. The stored expiry
    is checked as well as the key's TTL, so a token never outlives its 60 s."""
    raw = await redis.getdel(keys.embed_token(token_hash(token)))
    if raw is None:
        return None
    grant = EmbedGrant(**json.loads(raw))
    return grant if grant.expires_at > now else None


async def issuer(redis: Redis, token: str) -> str | None:
    """The vendor a (possibly spent) token was issued to, for a day."""
    return decoded.text(await redis.get(keys.embed_issued(token_hash(token))))


def embed_lapsed(c: Consultation, at: float) -> bool:
    """Whether an embed session for `c` has outlived its call (see the module's note)."""
    if c.status not in (Status.ENDED, Status.CANCELLED):
        return False
    return c.ended_at is None or at > c.ended_at + AFTER_CALL_SECONDS


async def open_embed_session(
    redis: Redis, grant: EmbedGrant, ttl_seconds: int = EMBED_SESSION_SECONDS
) -> str:
    """A session for the grant's user, bound to its vendor and scoped to its consultation."""
    session = await open_session(redis, grant.user_id, ttl_seconds)
    binding = EmbedBinding(grant.vendor_id, grant.consultation_id)
    await redis.set(
        keys.embed_session(token_hash(session)), json.dumps(asdict(binding)), ex=ttl_seconds
    )
    return session


async def embed_binding(redis: Redis, session: str) -> EmbedBinding | None:
    raw = await redis.get(keys.embed_session(token_hash(session)))
    return EmbedBinding(**json.loads(raw)) if raw else None
