"""Who may use an invitation link, and when: a pure rule over plain records."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.consultations.invitationrules import InvitationState, invitation_state
from server.consultations.linkrules import CLOSES_AFTER_END, OPENS_BEFORE
from server.store.consultations import Consultation, Kind, Status
from server.store.invitations import ACTIVE, REVOKED, Invitation
from server.store.users import User, UserRole

START = 1_800_000_000.0
CONSULTATION = Consultation(
    id="c1", clinic_id="k1", kind=Kind.SCHEDULED, status=Status.BOOKED, created_at=START - 86_400,
    scheduled_start=START, duration_minutes=15,
)  # fmt: skip
OPEN = Invitation(
    id="i1", consultation_id="c1", clinic_id="k1", organisation_id="kbh",
    organisation_name="Københavns Kommune", invitee_user_id="", participant_id="p1",
    status=ACTIVE, created_at=START - 3600, invited_by="user:gp",
)  # fmt: skip


def person(user_id: str = "u1", role: str = UserRole.STAFF, organisation_id: str = "kbh") -> User:
    return User(user_id, f"name-{user_id}", "Sara", role, "", "hash", organisation_id, "Nurse")


@pytest.mark.parametrize(
    ("invitation", "consultation", "user", "at", "expected"),
    [
        (OPEN, CONSULTATION, person(), START, InvitationState.OK),
        (OPEN, CONSULTATION, person(role=UserRole.ORG_ADMIN), START, InvitationState.OK),
        (None, CONSULTATION, person(), START, InvitationState.UNKNOWN),
        (OPEN, None, person(), START, InvitationState.UNKNOWN),
        (replace(OPEN, status=REVOKED), CONSULTATION, person(), START, InvitationState.REVOKED),
        (OPEN, replace(CONSULTATION, status=Status.ENDED), person(), START, InvitationState.ENDED),
        (
            OPEN, replace(CONSULTATION, status=Status.CANCELLED), person(), START,
            InvitationState.CANCELLED,
        ),
        (OPEN, CONSULTATION, person(), START - OPENS_BEFORE - 1, InvitationState.NOT_YET),
        (OPEN, CONSULTATION, person(), START + 900 + CLOSES_AFTER_END + 1, InvitationState.EXPIRED),
        (OPEN, CONSULTATION, None, START, InvitationState.LOGIN),
        (OPEN, CONSULTATION, person(organisation_id="aarhus"), START,
         InvitationState.WRONG_ORGANISATION),
        (OPEN, CONSULTATION, person(role=UserRole.GP, organisation_id=""), START,
         InvitationState.WRONG_ORGANISATION),
        (replace(OPEN, invitee_user_id="u2"), CONSULTATION, person("u1"), START,
         InvitationState.WRONG_PERSON),
        (replace(OPEN, invitee_user_id="u2"), CONSULTATION, person("u2"), START,
         InvitationState.OK),
    ],
)  # fmt: skip
def test_invitation_state(
    invitation: Invitation | None,
    consultation: Consultation | None,
    user: User | None,
    at: float,
    expected: InvitationState,
) -> None:
    assert invitation_state(invitation, consultation, user, at) is expected


def test_a_withdrawn_invitation_says_so_before_anything_about_the_visitor() -> None:
    """Nobody learns more than 'withdrawn' from a dead link, logged in or not."""
    withdrawn = replace(OPEN, status=REVOKED)
    assert invitation_state(withdrawn, CONSULTATION, None, START) is InvitationState.REVOKED
