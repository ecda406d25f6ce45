"""What a socket may do once it said who it is: one subclass per role, one table each.

Each role lists the client messages it takes in `handlers`; a message type missing from a
role's table is refused as `forbidden` before any handler runs, so a patient cannot admit
and a GP cannot consent, by construction. What every seat may do in a call (signal, media
state, chat, stop the note-taker) is written once here and named in each table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from server.notetaker import control as notetaker
from server.signalling import controls
from server.signalling import messages as m
from server.signalling.callreports import CallReport
from server.signalling.notetakermessages import NoteTakerStop
from server.signalling.seat import Seat
from server.signalling.state import SessionState

if TYPE_CHECKING:
    from server.signalling.session import Session

Handler = Callable[[Any, Any], Awaitable[None]]


class Role:
    # Slots throughout: one role, seat and place per socket, thousands of them per instance.
    __slots__ = ("seat", "session")
    name: ClassVar[str]
    handlers: ClassVar[Mapping[type[m.BaseModel], Handler]]

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seat = Seat(session)

    async def hello(self, msg: m.Hello) -> None:
        """Take the seat this hello names, or refuse with a ProtocolError before any."""
        raise NotImplementedError

    async def handle(self, msg: Any) -> None:
        handler = self.handlers.get(type(msg))
        if handler is None:
            raise m.ProtocolError("forbidden", f"not for a {self.name}: {msg.type}", msg.ref)
        await handler(self, msg)

    async def control(self, control: controls.Control) -> None:
        """An instruction from another instance, for this socket's seat (or, for a resync,
        from this instance's router, for the socket itself)."""
        if isinstance(control, controls.Resync):
            await self.heal()
            return
        if self.seat.participant is None:
            return
        match control:
            case controls.Supersede(keep=keep) if keep != self.session.id:
                await self.superseded()
            case controls.Removed(text=text):
                await self.stop_waiting()
                self.session.send(m.Removed(text=text))
                await self.give_up_seat("removed")
            case controls.Ended(consultation_id=consultation_id, billing_code=code):
                await self.stop_waiting()
                self.session.send(m.CallEnded(consultation_id=consultation_id, billing_code=code))
                await self.give_up_seat("ended")
            case controls.Admitted():
                await self.admitted()
            case controls.Held():
                await self.held()

    async def superseded(self) -> None:
        self.session.send(m.Superseded())
        self.seat.let_go()
        await self.stop_waiting()
        await self.session.drop_channels()
        self.session.move_to(SessionState.CLOSED)
        self.session.close_socket(4001)

    async def enter_call(self) -> None:
        self.session.move_to(SessionState.IN_CALL)
        await self.seat.enter_call()

    async def heal(self) -> None:
        """Deltas may have been lost. A waiting patient's place heals in the next presence
        round (server/signalling/presencekeeper.py); the GP's console reads its clinic anew."""

    async def admitted(self) -> None:
        """Patients and professionals are let in; a GP never is."""

    async def held(self) -> None:
        """Only a patient is put on hold."""

    async def stop_waiting(self) -> None:
        """Patients stop following their queue; others have nothing to stop."""

    async def give_up_seat(self, reason: str) -> None:
        await self.seat.give_up(reason)
        if self.session.state is not SessionState.CLOSED:
            self.session.move_to(SessionState.IDLE)

    async def close(self) -> None:
        """The socket is gone: let go of everything it held."""
        await self.stop_waiting()
        await self.seat.give_up("disconnected")

    # ---- what every seat may do in a call ---------------------------------------------------

    async def signal(self, msg: m.Signal) -> None:
        """The login was looked at before (Session._receive); see also Session._relay."""
        await self.seat.signal(msg, None)

    async def media_state(self, msg: m.MediaState) -> None:
        await self.seat.media_state(msg)

    async def chat(self, msg: m.Chat) -> None:
        await self.seat.chat(msg)

    async def notetaker_stop(self, msg: NoteTakerStop) -> None:
        c = await self.seat.current(msg.ref)
        assert self.seat.participant is not None
        s = self.session
        await refused_as_error(
            msg.ref, notetaker.withdraw(s.redis, s.router, s.settings, c, self.seat.participant)
        )

    async def call_report(self, msg: CallReport) -> None:
        await self.seat.report(msg)

    IN_CALL: ClassVar[dict[type[m.BaseModel], Handler]] = {
        m.Signal: signal,
        CallReport: call_report,
        m.MediaState: media_state,
        m.Chat: chat,
        NoteTakerStop: notetaker_stop,
    }


async def refused_as_error(ref: str | None, action: Awaitable[None]) -> None:
    """A note-taker refusal becomes the socket's error reply with the same code."""
    try:
        await action
    except notetaker.Refused as exc:
        raise m.ProtocolError(exc.code, exc.message, ref) from exc
