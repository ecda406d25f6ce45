"""Invitations of professionals from another organisation (a municipality) into a consultation.

An invitation is for an organisation and, optionally, one named person in it. It carries a
link token (stored hashed) and owns one participant seat: whoever of the invited uses the
link sits in that seat, shown with their name, title and organisation. Revoking the
invitation (the GP removes them) makes the link stop working for good.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from server.auth.tokens import new_id, new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import RETENTION_SECONDS, Consultation
from server.store.organisations import Organisation
from server.store.participants import SeatRole, create_participant

ACTIVE = "active"
REVOKED = "revoked"


@dataclass(frozen=True)
class Invitation:
    id: str
    consultation_id: str
    clinic_id: str
    organisation_id: str
    organisation_name: str
    invitee_user_id: str  # "" = anyone on the organisation's staff
    participant_id: str
    status: str
    created_at: float
    invited_by: str  # "user:<id>" or "vendor:<id>"

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


async def create_invitation(
    redis: Redis,
    c: Consultation,
    organisation: Organisation,
    invited_by: str,
    invitee_user_id: str = "",
) -> tuple[Invitation, str]:
    """A new invitation and its link token (shown once)."""
    seat = await create_participant(redis, c.id, SeatRole.STAFF, organisation.name)
    token = new_token()
    invitation = Invitation(
        new_id(), c.id, c.clinic_id, organisation.id, organisation.name, invitee_user_id,
        seat.id, ACTIVE, time.time(), invited_by,
    )  # fmt: skip
    key = keys.invitation(invitation.id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={k: str(v) for k, v in asdict(invitation).items()})
        pipe.expire(key, RETENTION_SECONDS)
        pipe.set(keys.invitation_by_token(token_hash(token)), invitation.id, ex=RETENTION_SECONDS)
        pipe.sadd(keys.consultation_invitations(c.id), invitation.id)
        pipe.expire(keys.consultation_invitations(c.id), RETENTION_SECONDS)
        pipe.hset(keys.participant(seat.id), "organisation_name", organisation.name)
        await pipe.execute()
    return invitation, token


def _from_hash(h: dict[str, str]) -> Invitation:
    return Invitation(**{**h, "created_at": float(h["created_at"])})  # type: ignore[arg-type]  # hash fields by name


async def get_invitation(redis: Redis, invitation_id: str) -> Invitation | None:
    h = decoded.fields(await redis.hgetall(keys.invitation(invitation_id)))
    return _from_hash(h) if h else None


async def invitation_for_token(redis: Redis, token: str) -> Invitation | None:
    invitation_id = decoded.text(await redis.get(keys.invitation_by_token(token_hash(token))))
    return await get_invitation(redis, invitation_id) if invitation_id else None


async def consultation_invitations(redis: Redis, consultation_id: str) -> list[Invitation]:
    ids = decoded.members(await redis.smembers(keys.consultation_invitations(consultation_id)))
    found = [await get_invitation(redis, i) for i in ids]
    return sorted((i for i in found if i is not None), key=lambda i: i.created_at)


async def invitation_for_participant(
    redis: Redis, consultation_id: str, participant_id: str
) -> Invitation | None:
    for invitation in await consultation_invitations(redis, consultation_id):
        if invitation.participant_id == participant_id:
            return invitation
    return None


async def revoke_invitation(redis: Redis, invitation: Invitation) -> None:
    await redis.hset(keys.invitation(invitation.id), "status", REVOKED)
