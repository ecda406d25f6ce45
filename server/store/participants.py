"""Participants: a person's seat in one consultation (patient, GP, invited professionals).

A participant outlives browser tabs: each new socket for it takes the seat over, and the
seat's `connection` field names the socket that holds it now.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from server.auth.tokens import new_id, new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import RETENTION_SECONDS


class SeatRole(StrEnum):
    """Who holds a seat in a consultation."""

    PATIENT = "patient"
    GP = "gp"
    STAFF = "staff"  # an invited professional from another organisation


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    consultation_id: str
    role: SeatRole
    display_name: str
    user_id: str = ""
    resume_hash: str = ""
    connection: str = ""
    terms_version: str = ""  # the video terms the patient accepted, and when (unix s)
    terms_accepted_at: str = ""
    # An invited professional: their job title and organisation, shown to the others.
    title: str = ""
    organisation_name: str = ""
    admitted: str = ""  # "1" once the GP let an invited professional into the call


async def create_participant(
    redis: Redis,
    consultation_id: str,
    role: SeatRole,
    display_name: str,
    user_id: str = "",
    participant_id: str | None = None,
) -> Participant:
    p = Participant(participant_id or new_id(), consultation_id, role, display_name, user_id)
    await redis.hset(keys.participant(p.id), mapping=decoded.writable(asdict(p)))
    await redis.expire(keys.participant(p.id), RETENTION_SECONDS)
    return p


_CLAIM_PATIENT_SEAT = """
local seat = redis.call('HGET', KEYS[1], 'patient_participant')
if seat and seat ~= '' then return seat end
redis.call('HSET', KEYS[1], 'patient_participant', ARGV[1])
return ARGV[1]
"""


async def patient_seat(redis: Redis, consultation_id: str, display_name: str) -> str:
    """The consultation's one patient participant, created on first join. Two browsers
    joining at once still end up sharing one seat (the loser's spare record is dropped)."""
    candidate = await create_participant(redis, consultation_id, SeatRole.PATIENT, display_name)
    seat = await redis.register_script(_CLAIM_PATIENT_SEAT)(
        keys=[keys.consultation(consultation_id)], args=[candidate.id]
    )
    if seat != candidate.id:
        await redis.delete(keys.participant(candidate.id))
    return str(seat)


async def get_participant(redis: Redis, participant_id: str) -> Participant | None:
    h = decoded.fields(await redis.hgetall(keys.participant(participant_id)))
    if not h:
        return None
    return Participant(**{**h, "role": SeatRole(h["role"])})  # type: ignore[arg-type]  # hash fields by name


async def issue_resume_token(
    redis: Redis, participant_id: str, display_name: str, terms_version: str
) -> str:
    """Record the joiner's name and accepted terms. The new resume token replaces the old
    one: only the newest joiner can resume."""
    token = new_token()
    await redis.hset(
        keys.participant(participant_id),
        mapping={
            "resume_hash": token_hash(token),
            "display_name": display_name,
            "terms_version": terms_version,
            "terms_accepted_at": str(int(time.time())),
        },
    )
    return token


async def claim_seat(redis: Redis, participant_id: str, connection_id: str) -> None:
    await redis.hset(keys.participant(participant_id), "connection", connection_id)


_RELEASE = """
if redis.call('HGET', KEYS[1], 'connection') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'connection', '')
  return 1
end
return 0
"""


async def release_seat(redis: Redis, participant_id: str, connection_id: str) -> bool:
    """Release the seat if this connection still holds it (a newer tab may have taken it)."""
    script = redis.register_script(_RELEASE)
    return bool(await script(keys=[keys.participant(participant_id)], args=[connection_id]))


async def seat_professional(
    redis: Redis, p: Participant, user_id: str, name: str, title: str
) -> Participant:
    """The invited professional now using this seat: shown with their own name and title."""
    await redis.hset(
        keys.participant(p.id), mapping={"user_id": user_id, "display_name": name, "title": title}
    )
    return replace(p, user_id=user_id, display_name=name, title=title)


async def set_admitted(redis: Redis, participant_id: str, admitted: bool) -> None:
    await redis.hset(keys.participant(participant_id), "admitted", "1" if admitted else "")
