"""Inviting a municipality's professional into a consultation (a cross-sector call).

The same rule for the GP's console and the LPS API: the consultation must still be ahead
or running, the organisation must exist, and a named invitee must be on its staff.
"""

from __future__ import annotations

from server.store.connection import Redis
from server.store.consultations import Consultation, Status
from server.store.events import EventType, append_event
from server.store.invitations import Invitation, create_invitation
from server.store.organisations import Organisation
from server.store.users import ORGANISATION_ROLES, User, get_user


class InviteError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def invite(
    redis: Redis,
    c: Consultation,
    organisation: Organisation | None,
    invited_by: str,
    invitee_user_id: str = "",
) -> tuple[Invitation, str, User | None]:
    """A new invitation, its link token (shown once) and the named invitee, if any."""
    if c.status in (Status.ENDED, Status.CANCELLED):
        raise InviteError("consultation_closed", "the consultation has ended or is cancelled")
    if organisation is None:
        raise InviteError("unknown_organisation", "no such organisation")
    invitee = await get_user(redis, invitee_user_id) if invitee_user_id else None
    if invitee_user_id and (
        invitee is None
        or invitee.organisation_id != organisation.id
        or invitee.role not in ORGANISATION_ROLES
    ):
        raise InviteError("unknown_invitee", "that person is not on the organisation's staff")
    invitation, token = await create_invitation(redis, c, organisation, invited_by, invitee_user_id)
    await append_event(
        redis, EventType.PARTICIPANT_INVITED, consultation_id=c.id, clinic_id=c.clinic_id,
        invitation_id=invitation.id, organisation_id=organisation.id,
    )  # fmt: skip
    return invitation, token, invitee


def invitation_path(token: str) -> str:
    return f"/i/{token}"
