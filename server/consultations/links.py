"""Patient join links: the token goes to the patient, the store keeps only its hash
(`server.store.links`), and `linkrules` says when a link works."""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.tokens import new_token, token_hash
from server.clock import now
from server.consultations.linkrules import LinkState, link_state, link_ttl
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation
from server.store.links import get_link, save_link


@dataclass(frozen=True)
class ResolvedLink:
    state: LinkState
    consultation: Consultation | None


async def issue_link(redis: Redis, c: Consultation) -> tuple[str, Consultation]:
    """A new link for the patient (the token), revoking the one before."""
    token = new_token()
    return token, await save_link(redis, c, token_hash(token), link_ttl(c, now()))


async def resolve_link(redis: Redis, token: str, at: float | None = None) -> ResolvedLink:
    h = token_hash(token)
    record = await get_link(redis, h)
    if record is None:
        return ResolvedLink(LinkState.UNKNOWN, None)
    c = await get_consultation(redis, record.consultation_id)
    state = link_state(c, h, record.revoked, now() if at is None else at)
    return ResolvedLink(state, c)
