"""A GP's socket: the clinic's live picture, and what a clinician does with the queue and calls.

Every consultation a GP names must belong to their own clinic (`_own`); the moves
themselves are the room's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import ClassVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.auth.tokens import new_id
from server.clock import local_day, now
from server.consultations import call
from server.notetaker import control as notetaker
from server.signalling import controls
from server.signalling import messages as m
from server.signalling.clinicstate import clinic_state
from server.signalling.consolemessages import ClinicState
from server.signalling.notetakermessages import NoteTakerOffer
from server.signalling.role import Handler, Role, refused_as_error
from server.signalling.state import SessionState
from server.store import keys
from server.store.consultations import (
    Consultation,
    Status,
    get_consultation,
    practitioners_on_day,
)
from server.store.messages import add_clinic_message
from server.store.participants import (
    Participant,
    SeatRole,
    create_participant,
    get_participant,
)
from server.store.users import User, UserRole, get_user
from server.waitingroom.eta import gp_seen
from server.waitingroom.room import LeaveReason

log = logging.getLogger(__name__)

HEAL_ATTEMPTS = 20
HEAL_PAUSE_SECONDS = 0.5


def scoped(state: ClinicState, scope: str | None) -> ClinicState:
    """The clinic's picture as an embedded view of one consultation may see it."""
    if scope is None:
        return state
    return state.model_copy(
        update={
            "waiting": [e for e in state.waiting if e.consultation_id == scope],
            "lobby": [e for e in state.lobby if e.consultation_id == scope],
            "today": [e for e in state.today if e.consultation_id == scope],
        }
    )


class ClinicianRole(Role):
    __slots__ = ()
    name = "clinician"

    @property
    def user(self) -> User:
        assert self.session.user is not None
        return self.session.user

    async def hello(self, msg: m.Hello) -> None:
        s = self.session
        s.move_to(SessionState.IDLE)
        s.send(
            m.Welcome(
                role="gp", connection_id=s.id, state="idle", active_call=await self._held_call()
            )
        )
        # Subscribe before reading the snapshot: any delta queued ahead of it is older.
        await s.listen(keys.clinic_channel(self.user.clinic_id))
        await gp_seen(s.redis, self.user.clinic_id, self.user.id)
        s.presence.add_gp(s.id, self.user.clinic_id, self.user.id)
        s.send(scoped(await clinic_state(s.redis, self.user.clinic_id), s.scope))

    async def heal(self) -> None:
        """The clinic anew. Pub/sub can be back before Redis answers reads (a restarted
        Redis loading its AOF accepts SUBSCRIBE but answers LOADING), and a resync that
        failed would leave the list stale until the next one: so try for a while. An embedded
        view gets its own consultation only, as at hello."""
        for _ in range(HEAL_ATTEMPTS):
            if self.session.state is SessionState.CLOSED:
                return
            try:
                state = await clinic_state(self.session.redis, self.user.clinic_id)
                self.session.send(scoped(state, self.session.scope))
                return
            except (RedisConnectionError, RedisTimeoutError):
                await asyncio.sleep(HEAL_PAUSE_SECONDS)
        log.warning("a console could not read its clinic after pub/sub came back")

    async def _held_call(self) -> str | None:
        """A call this GP holds in today's list, to offer rejoining after a reload. Only
        the GP's own consultations are read whole."""
        redis, scope = self.session.redis, self.session.scope
        for cid, status, practitioner_id in await practitioners_on_day(
            redis, self.user.clinic_id, local_day(now())
        ):
            if practitioner_id != self.user.id or scope not in (None, cid):
                continue
            if status in (Status.ENDED, Status.CANCELLED):
                continue
            c = await get_consultation(redis, cid)
            if c is not None and await self._call_open(c):
                return c.id
        return None

    async def _call_open(self, c: Consultation) -> bool:
        """In a call with the patient, or open with only an invited professional left."""
        if c.status == Status.IN_CALL:
            return True
        return c.status not in (Status.ENDED, Status.CANCELLED) and bool(
            await call.members(self.session.redis, c.id)
        )

    async def _own(
        self, consultation_id: str, ref: str | None, waiting: bool = False
    ) -> Consultation:
        """The consultation, if it belongs to this GP's clinic (and waiting, if asked); an
        embedded view's socket names only its own."""
        if self.session.scope not in (None, consultation_id):
            raise m.ProtocolError("forbidden", "no such consultation in your clinic", ref)
        c = await get_consultation(self.session.redis, consultation_id)
        if c is None or c.clinic_id != self.user.clinic_id:
            raise m.ProtocolError("forbidden", "no such consultation in your clinic", ref)
        if waiting and c.status != Status.WAITING:
            raise m.ProtocolError("not_waiting", "this patient is not waiting", ref)
        return c

    def _holding(self, c: Consultation, ref: str | None) -> None:
        if self.seat.participant is None or c.gp_participant != self.seat.participant.id:
            raise m.ProtocolError("not_your_call", "you are not holding this call", ref)

    async def _seat_for(self, c: Consultation) -> Participant | str:
        """The same GP coming back (after a hold, or a talk with a professional) keeps their
        seat; anyone else gets a new one (its id: it is made only once the GP is let in)."""
        redis = self.session.redis
        earlier = await get_participant(redis, c.gp_participant) if c.gp_participant else None
        return earlier if earlier and earlier.user_id == self.user.id else new_id()

    async def _join(self, c: Consultation, seat: Participant | str) -> None:
        if isinstance(seat, str):
            seat = await create_participant(
                self.session.redis,
                c.id,
                SeatRole.GP,
                self.user.display_name,
                self.user.id,
                participant_id=seat,
            )
        await self._sit(seat, c)

    async def _sit(self, p: Participant, c: Consultation) -> None:
        await self.seat.take(p, c)
        await self.enter_call()

    # ---- the queue --------------------------------------------------------------------------

    async def admit(self, msg: m.Admit) -> None:
        c = await self._own(msg.consultation_id, msg.ref)
        in_this_call = (
            self.seat.participant is not None
            and self.seat.consultation is not None
            and self.seat.consultation.id == c.id
        )
        if self.seat.participant is not None and not in_this_call:
            raise m.ProtocolError("busy", "end your current call first", msg.ref)
        if msg.participant_id is not None:
            await self._admit_professional(c, msg.participant_id, msg.ref)
            return
        seat = self.seat.participant or await self._seat_for(c)

        async def take_seat(fresh: Consultation) -> None:
            if in_this_call:
                self.seat.consultation = fresh
            else:
                await self._join(fresh, seat)

        if await self.session.room.admit(c, self.user.id, _seat_id(seat), take_seat) is None:
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)

    async def _admit_professional(
        self, c: Consultation, participant_id: str, ref: str | None
    ) -> None:
        """Let an invited professional in; the GP opens the call for it if need be."""
        room = self.session.room
        guest = await get_participant(self.session.redis, participant_id)
        if guest is None or guest.consultation_id != c.id or guest.role != SeatRole.STAFF:
            raise m.ProtocolError("unknown_participant", "no such professional here", ref)
        if not await room.lobby_leave(c.clinic_id, guest.id, "admitted"):
            raise m.ProtocolError("not_waiting", "this professional is not waiting", ref)
        if self.seat.participant is None:
            seat = await self._seat_for(c)
            opened = await room.open_call(c, self.user.id, _seat_id(seat))
            if opened is None:
                raise m.ProtocolError("not_open", "this consultation is over", ref)
            await self._join(opened, seat)
        await room.let_in(guest)

    async def rejoin(self, msg: m.Rejoin) -> None:
        c = await self._own(msg.consultation_id, msg.ref)
        redis = self.session.redis
        p = await get_participant(redis, c.gp_participant) if c.gp_participant else None
        if p is None or p.user_id != self.user.id or not await self._call_open(c):
            raise m.ProtocolError("not_your_call", "you are not holding this call", msg.ref)
        if self.seat.participant is not None and self.seat.participant.id != p.id:
            raise m.ProtocolError("busy", "end your current call first", msg.ref)
        await self._sit(p, c)

    async def message(self, msg: m.SendMessage) -> None:
        c = await self._own(msg.consultation_id, msg.ref, waiting=True)
        note = await add_clinic_message(self.session.redis, c.id, msg.text)
        await self.seat.relay([c.patient_participant], m.ClinicMessage(text=note.text, at=note.at))
        await self.session.room.details_changed(c)  # every console's card shows it was sent

    async def transfer(self, msg: m.Transfer) -> None:
        c = await self._own(msg.consultation_id, msg.ref, waiting=True)
        colleague = await get_user(self.session.redis, msg.to_user)
        if colleague is None or colleague.clinic_id != c.clinic_id or colleague.role != UserRole.GP:
            raise m.ProtocolError("unknown_colleague", "no such GP in your clinic", msg.ref)
        if not await self.session.room.transfer(c, colleague.id):
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)

    async def remove(self, msg: m.Remove) -> None:
        c = await self._own(msg.consultation_id, msg.ref, waiting=True)
        told = controls.Removed(text=msg.text)
        if not await self.session.room.leave(c, LeaveReason.REMOVED, told):
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)

    # ---- the call ---------------------------------------------------------------------------

    async def hold(self, msg: m.Hold) -> None:
        c = await self._own(msg.consultation_id, msg.ref)
        self._holding(c, msg.ref)
        if await self.session.room.hold(c) is None:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        # Anyone else in the call (an invited professional) stays with the GP; alone, the
        # GP goes back to the list.
        assert self.seat.participant is not None
        others = await call.members(self.session.redis, c.id) - {self.seat.participant.id}
        if others:
            left = m.PeerLeft(participant_id=c.patient_participant, reason="held")
            self.session.send(left)
            await self.seat.relay(others, left)
        else:
            await self.give_up_seat("held")

    async def end(self, msg: m.End) -> None:
        c = await self._own(msg.consultation_id, msg.ref)
        if await self.session.room.end(c, continued_by_phone=msg.continued_by_phone) is None:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)

    async def remove_participant(self, msg: m.RemoveParticipant) -> None:
        c = await self._own(msg.consultation_id, msg.ref)
        p = await get_participant(self.session.redis, msg.participant_id)
        if p is None or p.consultation_id != c.id or p.role == SeatRole.GP:
            raise m.ProtocolError("unknown_participant", "no such participant here", msg.ref)
        await self.session.room.remove(c, p)

    async def notetaker_offer(self, msg: NoteTakerOffer) -> None:
        """Offered in the call, by the GP holding it: the patient hears it explained."""
        c = await self._own(msg.consultation_id, msg.ref)
        self._holding(c, msg.ref)
        if c.status != Status.IN_CALL:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        s = self.session
        await refused_as_error(
            msg.ref, notetaker.offer(s.redis, s.router, s.settings, c, self.user)
        )

    async def close(self) -> None:
        self.session.presence.discard_gp(self.session.id)
        await super().close()

    handlers: ClassVar[Mapping[type[m.BaseModel], Handler]] = {
        **Role.IN_CALL,
        m.Admit: admit,
        m.Rejoin: rejoin,
        m.SendMessage: message,
        m.Transfer: transfer,
        m.Remove: remove,
        m.Hold: hold,
        m.End: end,
        m.RemoveParticipant: remove_participant,
        NoteTakerOffer: notetaker_offer,
    }


def _seat_id(seat: Participant | str) -> str:
    return seat if isinstance(seat, str) else seat.id
