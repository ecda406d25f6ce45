"""A patient's socket: present a link and resume token, wait in the queue, take the call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from server.auth.tokens import token_hash
from server.clock import now
from server.consultations.linkrules import LinkState
from server.consultations.links import resolve_link
from server.notetaker import control as notetaker
from server.signalling import controls
from server.signalling import messages as m
from server.signalling.notetakermessages import NoteTakerConsent
from server.signalling.place import Place
from server.signalling.role import Handler, Role, refused_as_error
from server.signalling.state import SessionState
from server.store.clinics import get_clinic
from server.store.consultations import Consultation, Status, get_consultation
from server.store.messages import clinic_messages
from server.store.participants import get_participant
from server.waitingroom import queue
from server.waitingroom.clinicavailability import absence_stops_queueing
from server.waitingroom.eta import clinic_pace
from server.waitingroom.room import LeaveReason

if TYPE_CHECKING:
    from server.signalling.session import Session

PRESENCE_TTL = 25


class PatientRole(Role):
    __slots__ = ("place",)
    name = "patient"

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.place: Place | None = None  # while waiting

    # ---- the presence keeper's view of a waiting patient (see PresenceKeeper) ---------------

    @property
    def participant_id(self) -> str:
        return self.seat.participant.id if self.seat.participant else ""

    @property
    def clinic_id(self) -> str:
        return self.seat.consultation.clinic_id if self.seat.consultation else ""

    @property
    def consultation_id(self) -> str:
        return self.seat.consultation.id if self.seat.consultation else ""

    def resync(self, position: int, pace: float, moves: int) -> None:
        if self.place is not None and self.place.resync(position, pace, moves, now()):
            self._send_place()

    def queue_moved(self, moves: Sequence[controls.QueueMoved]) -> None:
        """From the place board: the moves since it last told this clinic's patients."""
        if self.place is None:
            return
        changed = False
        for moved in moves:
            changed = self.place.moved(moved) or changed
        if changed:
            self._send_place()

    def _send_place(self) -> None:
        """On the hot path (one per patient of the clinic per place board window), so the
        message is built directly; `waiting_message` matches m.Waiting."""
        assert self.place is not None
        view = self.place.view(now())
        self.session.send_raw(
            m.waiting_message(view.position, view.eta_minutes, view.appointment_at)
        )

    # ---- hello ------------------------------------------------------------------------------

    async def hello(self, msg: m.Hello) -> None:
        assert msg.link is not None
        s = self.session
        resolved = await resolve_link(s.redis, msg.link)
        c = resolved.consultation
        if resolved.state not in (LinkState.OK, LinkState.ENDED) or c is None:
            raise m.ProtocolError(
                f"link_{resolved.state.value}", "this link does not work", msg.ref
            )
        p = await get_participant(s.redis, c.patient_participant) if c.patient_participant else None
        if p is None or msg.resume is None or p.resume_hash != token_hash(msg.resume):
            raise m.ProtocolError("resume_invalid", "join from the start page", msg.ref)
        clinic = await get_clinic(s.redis, c.clinic_id)
        if clinic is not None and await absence_stops_queueing(s.redis, clinic, c):
            raise m.ProtocolError("clinic_absent", "the clinic is away today", msg.ref)
        if c.status not in (Status.ENDED, Status.IN_CALL):
            await queue.heartbeat(s.redis, p.id, PRESENCE_TTL, s.presence.instance_id)
            entered = await s.room.enter(c)
            if entered is None:
                raise m.ProtocolError("cannot_wait", "this consultation is not open", msg.ref)
            c = entered
        await self.seat.take(p, c)
        s.send(
            m.Welcome(
                role="patient",
                connection_id=s.id,
                participant_id=p.id,
                state={Status.ENDED: "ended", Status.IN_CALL: "in_call"}.get(c.status, "waiting"),
                clinic_phone=clinic.phone if clinic else None,
                wait_limit_minutes=clinic.wait_limit_minutes if clinic else None,
                waiting_since=c.waiting_since,
                scheduled_start=c.scheduled_start,
                messages=[
                    m.ClinicNote(text=n.text, at=n.at) for n in await clinic_messages(s.redis, c.id)
                ],
            )
        )
        await self.seat.send_notetaker_state(c)
        if c.status == Status.ENDED:
            s.move_to(SessionState.IDLE)
            s.send(m.CallEnded(consultation_id=c.id, billing_code=c.billing_code))
        elif c.status == Status.IN_CALL:
            await self.enter_call()
        else:
            await self._start_waiting(c)

    # ---- waiting ----------------------------------------------------------------------------

    async def _start_waiting(self, c: Consultation) -> None:
        """Follow this patient's place from queue deltas."""
        s = self.session
        s.move_to(SessionState.WAITING)
        await s.places.follow(c.clinic_id, self)  # confirmed: no later delta is missed
        found = await queue.place_of(s.redis, c)
        if found is not None:
            key, rank, moves = found
            pace = await clinic_pace(s.redis, c.clinic_id)
            self.place = Place(key, rank + 1, pace, moves, c.scheduled_start, now())
            self._send_place()
        s.presence.add_waiter(self)

    def _forget_place(self) -> None:
        self.session.presence.discard_waiter(self)
        self.place = None

    async def stop_waiting(self) -> None:
        self._forget_place()
        if self.seat.consultation is not None:
            await self.session.places.unfollow(self.seat.consultation.clinic_id, self)

    async def leave(self, msg: m.Leave) -> None:
        s = self.session
        assert self.seat.consultation is not None  # set by hello, kept after the seat goes
        c = await get_consultation(s.redis, self.seat.consultation.id) or self.seat.consultation
        await s.room.leave(c, LeaveReason.LEFT)
        await self.stop_waiting()
        await self.give_up_seat("left")
        s.send(m.Left())

    # ---- moved by the clinic ----------------------------------------------------------------

    async def admitted(self) -> None:
        """Into the call first, tidying up after: the patient is told as soon as the call
        is read, not after the queue's channel and presence are let go (each a round trip
        to Redis, behind whatever else this instance is doing)."""
        p, s = self.seat.participant, self.session
        assert p is not None and self.seat.consultation is not None
        self._forget_place()
        c = await get_consultation(s.redis, self.seat.consultation.id)
        if c is not None and c.status == Status.IN_CALL and s.may_move(SessionState.IN_CALL):
            self.seat.consultation = c
            await self.enter_call()
        await self.stop_waiting()
        await queue.forget_presence(s.redis, p.id)

    async def held(self) -> None:
        assert self.seat.consultation is not None
        s = self.session
        c = await get_consultation(s.redis, self.seat.consultation.id)
        if c is not None and c.status == Status.WAITING and s.may_move(SessionState.WAITING):
            self.seat.consultation = c
            if self.seat.participant is not None:
                # Presence lapsed during the call (nobody beats for a seat in a call): this
                # socket is here, so the GPs must not see "connection lost".
                await queue.heartbeat(
                    s.redis, self.seat.participant.id, PRESENCE_TTL, s.presence.instance_id
                )
            s.send(m.Held())
            await self._start_waiting(c)
            await s.room.details_changed(c)

    async def close(self) -> None:
        was_waiting = self.place is not None
        await super().close()
        if was_waiting and self.seat.consultation is not None:
            # The patient keeps their place for the grace period; GPs see them offline.
            await self.session.room.details_changed(self.seat.consultation)

    # ---- the note-taker ---------------------------------------------------------------------

    async def notetaker_consent(self, msg: NoteTakerConsent) -> None:
        c = await self.seat.current(msg.ref)
        assert self.seat.participant is not None
        s = self.session
        await refused_as_error(
            msg.ref,
            notetaker.answer(
                s.redis, s.router, s.settings, c, self.seat.participant, msg.answer == "given",
                msg.text_version, msg.language,
            ),
        )  # fmt: skip

    handlers: ClassVar[Mapping[type[m.BaseModel], Handler]] = {
        **Role.IN_CALL,
        m.Leave: leave,
        NoteTakerConsent: notetaker_consent,
    }
