"""Who may use an invitation link, and when.

The link works like the patient's (see linkrules: from 24 hours before the appointment
until 4 hours after its planned end, never once the consultation ended or was cancelled),
and only for a logged-in member of the invited organisation: the named person, if the
invitation names one, else anyone on the organisation's staff.
"""

from __future__ import annotations

from enum import StrEnum

from server.consultations.linkrules import LinkState, window_state
from server.store.consultations import Consultation
from server.store.invitations import Invitation
from server.store.users import ORGANISATION_ROLES, User


class InvitationState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    ENDED = "ended"
    EXPIRED = "expired"
    NOT_YET = "not_yet"
    LOGIN = "login"  # nobody is logged in
    WRONG_ORGANISATION = "wrong_organisation"
    WRONG_PERSON = "wrong_person"


def invitation_state(
    invitation: Invitation | None, c: Consultation | None, user: User | None, at: float
) -> InvitationState:
    if invitation is None or c is None:
        return InvitationState.UNKNOWN
    if not invitation.active:
        return InvitationState.REVOKED
    window = window_state(c, at)
    if window is not LinkState.OK:
        return InvitationState(window.value)
    if user is None:
        return InvitationState.LOGIN
    if user.role not in ORGANISATION_ROLES or user.organisation_id != invitation.organisation_id:
        return InvitationState.WRONG_ORGANISATION
    if invitation.invitee_user_id and invitation.invitee_user_id != user.id:
        return InvitationState.WRONG_PERSON
    return InvitationState.OK
