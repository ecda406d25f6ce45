"""A participant's seat, held by one socket, and relaying between the seats of a call.

A seat is a participant of a consultation (patient, GP or invited professional). The
newest socket to take it holds it; older ones are told (`Supersede`) and let go. While the
seat is in the call, what its browser sends for the others (WebRTC signals, media state,
chat) is relayed to their seats' channels, on whichever instance they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth.turn import ice_servers
from server.clock import now
from server.consultations import call
from server.notetaker import control as notetaker
from server.signalling import messages as m
from server.signalling import relay
from server.signalling.callreports import CallReport
from server.signalling.controls import Supersede
from server.signalling.mediamessages import Peer
from server.signalling.relay import Login
from server.store import keys
from server.store.callattempts import record_report
from server.store.consultations import Consultation, get_consultation
from server.store.participants import Participant, claim_seat, get_participant, release_seat
from server.waitingroom import queue

if TYPE_CHECKING:
    from server.signalling.session import Session


def peer(p: Participant) -> Peer:
    return Peer(
        participant_id=p.id,
        role=p.role,
        display_name=p.display_name,
        title=p.title or None,
        organisation=p.organisation_name or None,
    )


class Seat:
    __slots__ = ("consultation", "participant", "refused", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.participant: Participant | None = None
        self.consultation: Consultation | None = None
        self.refused: relay.Refused = {}

    async def take(self, p: Participant, c: Consultation) -> None:
        """Hold the participant's seat with this socket; any older socket for it is told."""
        self.participant, self.consultation = p, c
        channel = keys.participant_channel(p.id)
        await self.session.listen(channel)
        await claim_seat(self.session.redis, p.id, self.session.id)
        await self.session.router.publish(channel, Supersede(keep=self.session.id))

    async def enter_call(self) -> None:
        p, c = self.participant, self.consultation
        assert p is not None and c is not None
        redis = self.session.redis
        others = await call.connect(redis, c.id, p.id)
        found = [await get_participant(redis, pid) for pid in others]
        # The others are told first: this side offers as soon as it hears who is there, and
        # its offer is relayed in a few milliseconds, so a `peer.joined` sent after would
        # often arrive behind it and keep the other side from answering until it did.
        await self.relay(others, m.PeerJoined(peer=peer(p)))
        self.session.send(
            m.CallJoined(
                consultation_id=c.id,
                participant_id=p.id,
                peers=[peer(o) for o in found if o is not None],
                ice_servers=ice_servers(self.session.settings, p.id),
            )
        )
        await self.send_notetaker_state(c)

    async def send_notetaker_state(self, c: Consultation) -> None:
        """A (re)joining screen learns at once whether the note-taker is listening."""
        status = await notetaker.status(self.session.redis, self.session.settings, c)
        if status is not None:
            self.session.send(status)

    async def give_up(self, reason: str) -> None:
        """Leave the call (if in one) and free the seat, telling the others."""
        p, c = self.participant, self.consultation
        if p is None:
            return
        self.participant = None
        redis = self.session.redis
        if await release_seat(redis, p.id, self.session.id):
            await queue.departed(redis, p.id)
            if c is not None:
                remaining = await call.disconnect(redis, c.id, p.id)
                await self.relay(remaining, m.PeerLeft(participant_id=p.id, reason=reason))
        await self.session.unlisten(keys.participant_channel(p.id))

    def let_go(self) -> None:
        """A newer socket holds the seat now: forget it without touching it."""
        self.participant = None

    async def current(self, ref: str | None) -> Consultation:
        """The current state of the consultation this socket holds a seat in."""
        c = self.consultation and await get_consultation(self.session.redis, self.consultation.id)
        if self.participant is None or c is None:
            raise m.ProtocolError("not_in_consultation", "you have no seat here", ref)
        return c

    # ---- relaying ---------------------------------------------------------------------------

    async def relay(self, seats: list[str] | set[str], message: m.BaseModel) -> None:
        body = m.dump(message)
        for seat in seats:
            await self.session.router.publish(keys.participant_channel(seat), body)

    async def _others(self, ref: str | None) -> tuple[Participant, set[str]]:
        """This seat and the others in its call; refused unless it is in the call."""
        p, c = self.participant, self.consultation
        if p is None or c is None:
            raise m.ProtocolError("not_in_call", "you are not in a call", ref)
        members = await call.members(self.session.redis, c.id)
        if p.id not in members:
            raise m.ProtocolError("not_in_call", "you are not in a call", ref)
        return p, members - {p.id}

    async def signal(self, msg: m.Signal, login: Login | None) -> bool:
        """Relay a description or a candidate to another seat of the call (relay.py); with
        `login`, looked at in the same round trip. False if that login has ended."""
        if (msg.description is None) == (msg.candidate is None):
            raise m.ProtocolError("invalid_message", "send a description or a candidate", msg.ref)
        p, c = self.participant, self.consultation
        if p is None or c is None:
            raise m.ProtocolError("not_in_call", "you are not in a call", msg.ref)
        return await relay.signal(self.session, c.id, p.id, msg, login, self.refused)

    async def media_state(self, msg: m.MediaState) -> None:
        p, others = await self._others(msg.ref)
        await self.relay(
            others,
            m.PeerMediaState(
                participant_id=p.id, audio=msg.audio, video=msg.video, audio_only=msg.audio_only
            ),
        )

    async def chat(self, msg: m.Chat) -> None:
        p, others = await self._others(msg.ref)
        line = m.ChatMessage(from_=p.id, display_name=p.display_name, text=msg.text, at=now())
        await self.relay(others, line)

    async def report(self, msg: CallReport) -> None:
        """Keep this side's report of its connection with the other of GP and patient on
        the consultation's current call attempt, timed here so that time to media does not
        depend on the browser's clock."""
        p, _ = await self._others(msg.ref)
        c = await self.current(msg.ref)
        pair = {c.gp_participant: c.patient_participant, c.patient_participant: c.gp_participant}
        if pair.get(p.id) != msg.peer or not msg.peer:
            return  # a connection with an invited professional: not what an admit measures
        report = msg.model_dump(exclude={"v", "type", "ref", "peer"})
        await record_report(self.session.redis, c.id, p.role, report, now())
