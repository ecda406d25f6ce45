"""An invited professional's socket: wait in the lobby apart from the queue, then the call."""

from __future__ import annotations

from server.clock import now
from server.consultations import call
from server.consultations.invitationrules import InvitationState, invitation_state
from server.signalling import messages as m
from server.signalling.role import Role
from server.signalling.state import SessionState
from server.store.consultations import get_consultation
from server.store.invitations import invitation_for_token
from server.store.participants import get_participant, seat_professional


class ProfessionalRole(Role):
    __slots__ = ()
    name = "professional"

    async def hello(self, msg: m.Hello) -> None:
        """Into the lobby, or straight back into the call if the GP had let them in
        before (a reload)."""
        s, token, ref = self.session, msg.invitation, msg.ref
        assert token is not None
        invitation = await invitation_for_token(s.redis, token)
        c = await get_consultation(s.redis, invitation.consultation_id) if invitation else None
        state = invitation_state(invitation, c, s.user, now())
        if state is not InvitationState.OK:
            raise m.ProtocolError(f"invitation_{state.value}", "this invitation does not work", ref)
        assert invitation is not None and c is not None and s.user is not None
        seat = await get_participant(s.redis, invitation.participant_id)
        if seat is None:
            raise m.ProtocolError("invitation_unknown", "this invitation does not work", ref)
        p = await seat_professional(s.redis, seat, s.user.id, s.user.display_name, s.user.title)
        await self.seat.take(p, c)
        rejoining = p.admitted and c.gp_participant in await call.members(s.redis, c.id)
        s.send(
            m.Welcome(
                role="staff",
                connection_id=s.id,
                participant_id=p.id,
                state="in_call" if rejoining else "waiting",
            )
        )
        if rejoining:
            await self.enter_call()
        else:
            s.move_to(SessionState.LOBBY)
            await s.room.lobby_enter(p, c)

    async def admitted(self) -> None:
        s, p = self.session, self.seat.participant
        assert p is not None and self.seat.consultation is not None
        c = await get_consultation(s.redis, self.seat.consultation.id)
        if c is not None and s.may_move(SessionState.IN_CALL):
            self.seat.consultation = c
            await self.enter_call()

    async def close(self) -> None:
        p, c = self.seat.participant, self.seat.consultation
        if self.session.state is SessionState.LOBBY and p is not None and c is not None:
            await self.session.room.lobby_leave(c.clinic_id, p.id, "disconnected")
        await super().close()

    handlers = Role.IN_CALL
