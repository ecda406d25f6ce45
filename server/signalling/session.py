"""One signalling WebSocket: who is on it, what it may do, and relaying for it.

A session starts anonymous, becomes a patient or a GP with `hello`, and may then hold a
participant's seat in a call. Messages from other instances arrive through the router; those
with a `_ctl` key are instructions to this session rather than messages for the browser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import WSMsgType, web

from server.appkeys import PRESENCE, REDIS, ROUTER, SETTINGS
from server.auth.tokens import new_id, token_hash
from server.auth.turn import ice_servers
from server.clock import local_day, now
from server.consultations import call, lobby
from server.consultations.invitationrules import InvitationState, invitation_state
from server.consultations.linkrules import LinkState
from server.notetaker import control as notetaker
from server.signalling import messages as m
from server.signalling.clinicstate import (
    announce_changed,
    announce_joined,
    announce_left,
    announce_lobby_joined,
    announce_lobby_left,
    clinic_state,
)
from server.signalling.ratelimit import TokenBucket
from server.store import keys
from server.store.clinics import get_clinic
from server.store.consultations import (
    CANCELLED,
    ENDED,
    IN_CALL,
    WAITING,
    Consultation,
    consultations_on_day,
    get_consultation,
    update_consultation,
)
from server.store.events import append_event
from server.store.invitations import (
    consultation_invitations,
    invitation_for_participant,
    invitation_for_token,
    revoke_invitation,
)
from server.store.links import resolve_link, revoke_link
from server.store.messages import add_clinic_message, clinic_messages
from server.store.participants import (
    Participant,
    claim_seat,
    create_participant,
    get_participant,
    release_seat,
    seat_professional,
    set_admitted,
)
from server.store.users import User, get_user
from server.waitingroom import queue
from server.waitingroom.clinicavailability import absence_stops_queueing
from server.waitingroom.eta import clinic_pace, eta_minutes, gp_seen, record_duration

log = logging.getLogger(__name__)

PRESENCE_TTL = 25


class SignallingSession:
    def __init__(self, app: web.Application, ws: web.WebSocketResponse, user: User | None) -> None:
        self.id = new_id()
        self.ws = ws
        self.user = user
        self.redis = app[REDIS]
        self.router = app[ROUTER]
        self.settings = app[SETTINGS]
        self.presence = app[PRESENCE]
        self.role: str | None = None
        self.participant: Participant | None = None
        self.consultation: Consultation | None = None
        self._channels: set[str] = set()
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._controls: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._bucket = TokenBucket(rate=50, burst=200)
        # A waiting patient's own queue key and place, kept current from queue deltas.
        self._queue_key: queue.QueueKey | None = None
        self._position = 0
        self._pace = 0.0
        self._in_lobby = False  # an invited professional waiting to be let in

    # ---- plumbing ---------------------------------------------------------------------------

    def deliver(self, message: dict[str, Any]) -> None:
        control = message.get("_ctl")
        if control == "queue":
            self._queue_moved(message)
        elif control:
            self._controls.put_nowait(message)
        else:
            self._outbox.put_nowait(message)

    def _queue_moved(self, event: dict[str, Any]) -> None:
        """Someone joined or left this patient's clinic queue. Only entries ahead of ours
        move our place, so this is O(1) and most patients send nothing."""
        if self._queue_key is None or (event["score"], event["id"]) >= self._queue_key:
            return
        self._position += 1 if event["op"] == "join" else -1
        self._pace = event["pace"]
        self._send_waiting()

    # The presence keeper's view of a waiting patient (see PresenceKeeper).
    @property
    def participant_id(self) -> str:
        return self.participant.id if self.participant else ""

    @property
    def clinic_id(self) -> str:
        return self.consultation.clinic_id if self.consultation else ""

    @property
    def consultation_id(self) -> str:
        return self.consultation.id if self.consultation else ""

    def resync(self, position: int, pace: float) -> None:
        """The true place from the queue itself; corrects any delta that went missing."""
        if self._queue_key is not None and (position, pace) != (self._position, self._pace):
            self._position, self._pace = position, pace
            self._send_waiting()

    def _send_waiting(self) -> None:
        """Tell the patient their place. On the hot path (one per patient behind every
        admit), so the message is built directly; `waiting_message` matches m.Waiting."""
        c = self.consultation
        eta = eta_minutes(self._position - 1, self._pace, c.scheduled_start if c else None, now())
        self._outbox.put_nowait(m.waiting_message(self._position, eta))

    def send(self, message: m.BaseModel) -> None:
        self._outbox.put_nowait(m.dump(message))

    def error(self, code: str, message: str, ref: str | None = None) -> None:
        self.send(m.Error(code=code, message=message, ref=ref))

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        controls = asyncio.create_task(self._run_controls())
        try:
            async for frame in self.ws:
                if frame.type != WSMsgType.TEXT:
                    if frame.type == WSMsgType.BINARY:
                        self.error("malformed", "text frames only")
                    continue
                if not self._bucket.take():
                    self.error("rate_limited", "too many messages; slow down")
                    continue
                await self._receive(frame.data)
        finally:
            # Shielded: aiohttp cancels the handler when the client goes away, and a
            # half-done clean-up would leave the seat, presence and subscriptions behind.
            await asyncio.shield(self._finish(writer, controls))

    async def _finish(self, writer: asyncio.Task[None], controls: asyncio.Task[None]) -> None:
        # Sentinels rather than cancel(): a cancel can be swallowed by a Redis call in
        # flight on Python 3.11 (asyncio.wait_for), which would leave the loop running.
        self._controls.put_nowait(None)
        await controls
        await self._close()
        self._outbox.put_nowait(None)
        await writer

    async def _write(self) -> None:
        while (message := await self._outbox.get()) is not None:
            if self.ws.closed:
                return
            try:
                if "_close" in message:
                    await self.ws.close(code=message["_close"], message=b"superseded")
                    return
                await self.ws.send_json(message)
            except ConnectionError:
                return

    async def _receive(self, raw: str) -> None:
        try:
            msg = m.parse_client_message(raw)
            async with self._lock:
                await self._dispatch(msg)
        except m.ProtocolError as exc:
            self.error(exc.code, exc.message, exc.ref)
        except Exception:
            log.exception("signalling message failed")
            self.error("internal", "the server could not handle that message")

    async def _run_controls(self) -> None:
        while (control := await self._controls.get()) is not None:
            try:
                async with self._lock:
                    await self._control(control)
            except Exception:
                log.exception("control %s failed", control.get("_ctl"))

    async def _listen(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.add(channel)
            await self.router.subscribe(channel, self)

    async def _unlisten(self, channel: str) -> None:
        if channel in self._channels:
            self._channels.discard(channel)
            await self.router.unsubscribe(channel, self)

    async def _publish(self, channel: str, message: m.BaseModel | dict[str, Any]) -> None:
        body = message if isinstance(message, dict) else m.dump(message)
        await self.router.publish(channel, body)

    # ---- messages from the browser ----------------------------------------------------------

    async def _dispatch(self, msg: Any) -> None:
        if isinstance(msg, m.Hello):
            await self._hello(msg)
            return
        if self.role is None:
            raise m.ProtocolError("not_ready", "send hello first", msg.ref)
        handlers = {
            m.Admit: self._admit,
            m.Rejoin: self._rejoin,
            m.Signal: self._signal,
            m.MediaState: self._media_state,
            m.Leave: self._leave,
            m.End: self._end,
            m.SendMessage: self._message,
            m.Transfer: self._transfer,
            m.Hold: self._hold,
            m.Remove: self._remove,
            m.RemoveParticipant: self._remove_participant,
            m.Chat: self._chat,
            m.NoteTakerOffer: self._notetaker_offer,
            m.NoteTakerConsent: self._notetaker_consent,
            m.NoteTakerStop: self._notetaker_stop,
        }
        await handlers[type(msg)](msg)

    async def _hello(self, msg: m.Hello) -> None:
        if self.role is not None:
            raise m.ProtocolError("already_hello", "hello was already received", msg.ref)
        if msg.link is not None:
            await self._hello_patient(msg)
        elif msg.invitation is not None:
            await self._hello_professional(msg.invitation, msg.ref)
        elif self.user is not None and self.user.role == "gp":
            await self._hello_gp()
        else:
            raise m.ProtocolError("unauthorised", "log in, or open your link again", msg.ref)

    async def _hello_patient(self, msg: m.Hello) -> None:
        assert msg.link is not None
        resolved = await resolve_link(self.redis, msg.link)
        c = resolved.consultation
        if resolved.state not in (LinkState.OK, LinkState.ENDED) or c is None:
            raise m.ProtocolError(
                f"link_{resolved.state.value}", "this link does not work", msg.ref
            )
        p = (
            await get_participant(self.redis, c.patient_participant)
            if c.patient_participant
            else None
        )
        if p is None or msg.resume is None or p.resume_hash != token_hash(msg.resume):
            raise m.ProtocolError("resume_invalid", "join from the start page", msg.ref)
        clinic = await get_clinic(self.redis, c.clinic_id)
        if clinic is not None and await absence_stops_queueing(self.redis, clinic, c):
            raise m.ProtocolError("clinic_absent", "the clinic is away today", msg.ref)
        joined_at: float | None = None
        if c.status not in (ENDED, IN_CALL):
            await queue.heartbeat(self.redis, p.id, PRESENCE_TTL)
            may_wait, joined_at = await queue.enter(self.redis, c)
            if not may_wait:
                raise m.ProtocolError("cannot_wait", "this consultation is not open", msg.ref)
            c = await get_consultation(self.redis, c.id) or c
        self.role = "patient"
        self.consultation = c
        await self._take_seat(p)
        self.send(
            m.Welcome(
                role="patient",
                connection_id=self.id,
                participant_id=p.id,
                state={ENDED: "ended", IN_CALL: "in_call"}.get(c.status, "waiting"),  # type: ignore[arg-type]
                clinic_phone=clinic.phone if clinic else None,
                wait_limit_minutes=clinic.wait_limit_minutes if clinic else None,
                waiting_since=c.waiting_since,
                scheduled_start=c.scheduled_start,
                messages=await clinic_messages(self.redis, c.id),
            )
        )
        await self._send_notetaker_state(c)
        if c.status == ENDED:
            self.send(m.CallEnded(consultation_id=c.id, billing_code=c.billing_code))
        elif c.status == IN_CALL:
            await self._enter_call(c, p)
        else:
            await self._start_waiting(c, p, joined_at)

    async def _hello_professional(self, token: str, ref: str | None) -> None:
        """An invited professional: into the lobby, or straight back into the call if the
        GP had let them in before (a reload)."""
        invitation = await invitation_for_token(self.redis, token)
        c = await get_consultation(self.redis, invitation.consultation_id) if invitation else None
        state = invitation_state(invitation, c, self.user, now())
        if state is not InvitationState.OK:
            raise m.ProtocolError(f"invitation_{state.value}", "this invitation does not work", ref)
        assert invitation is not None and c is not None and self.user is not None
        seat = await get_participant(self.redis, invitation.participant_id)
        if seat is None:
            raise m.ProtocolError("invitation_unknown", "this invitation does not work", ref)
        p = await seat_professional(
            self.redis, seat, self.user.id, self.user.display_name, self.user.title
        )
        self.role = "staff"
        self.consultation = c
        await self._take_seat(p)
        rejoining = p.admitted and c.gp_participant in await call.members(self.redis, c.id)
        self.send(
            m.Welcome(
                role="staff",
                connection_id=self.id,
                participant_id=p.id,
                state="in_call" if rejoining else "waiting",
            )
        )
        if rejoining:
            await self._enter_call(c, p)
        else:
            self._in_lobby = True
            since = await lobby.enter(self.redis, c.clinic_id, p.id)
            await announce_lobby_joined(self.router, p, c, since)

    async def _leave_lobby(self, reason: str) -> None:
        if self._in_lobby and self.participant is not None and self.consultation is not None:
            self._in_lobby = False
            clinic_id = self.consultation.clinic_id
            if await lobby.leave(self.redis, clinic_id, self.participant.id):
                await announce_lobby_left(self.router, clinic_id, self.participant.id, reason)

    async def _hello_gp(self) -> None:
        assert self.user is not None
        self.role = "gp"
        self.send(
            m.Welcome(
                role="gp", connection_id=self.id, state="idle", active_call=await self._held_call()
            )
        )
        # Subscribe before reading the snapshot: any delta queued ahead of it is older.
        await self._listen(keys.clinic_channel(self.user.clinic_id))
        await gp_seen(self.redis, self.user.clinic_id, self.user.id)
        self.presence.add_gp(self.id, self.user.clinic_id, self.user.id)
        self.send(await clinic_state(self.redis, self.user.clinic_id))

    async def _held_call(self) -> str | None:
        """A call this GP holds in today's list, to offer rejoining after a reload."""
        assert self.user is not None
        for c in await consultations_on_day(self.redis, self.user.clinic_id, local_day(now())):
            if c.practitioner_id == self.user.id and await self._call_open(c):
                return c.id
        return None

    async def _call_open(self, c: Consultation) -> bool:
        """In a call with the patient, or open with only an invited professional left."""
        if c.status == IN_CALL:
            return True
        return c.status not in (ENDED, CANCELLED) and bool(await call.members(self.redis, c.id))

    async def _own_consultation(self, consultation_id: str, ref: str | None) -> Consultation:
        """The consultation, if it belongs to this GP's clinic; otherwise refuse."""
        if self.role != "gp" or self.user is None:
            raise m.ProtocolError("forbidden", "only a clinician may do that", ref)
        c = await get_consultation(self.redis, consultation_id)
        if c is None or c.clinic_id != self.user.clinic_id:
            raise m.ProtocolError("forbidden", "no such consultation in your clinic", ref)
        return c

    async def _own_waiting(self, consultation_id: str, ref: str | None) -> Consultation:
        c = await self._own_consultation(consultation_id, ref)
        if c.status != WAITING:
            raise m.ProtocolError("not_waiting", "this patient is not waiting", ref)
        return c

    async def _admit(self, msg: m.Admit) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        in_this_call = self.participant is not None and self.consultation_id == c.id
        if self.participant is not None and not in_this_call:
            raise m.ProtocolError("busy", "end your current call first", msg.ref)
        if msg.participant_id is not None:
            await self._admit_professional(c, msg.participant_id, msg.ref)
            return
        assert self.user is not None
        seat = self.participant.id if self.participant else await self._gp_seat_id(c)
        score = await queue.admit(self.redis, c, self.user.id, seat)
        if score is None:
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)
        c = await get_consultation(self.redis, c.id) or c
        if not in_this_call:
            await self._join_as_gp(c, seat)
        self.consultation = c
        await self._publish(keys.participant_channel(c.patient_participant), {"_ctl": "admitted"})
        await announce_left(self.redis, self.router, c, score, reason="admitted")

    async def _gp_seat_id(self, c: Consultation) -> str:
        """The same GP coming back (after a hold, or a talk with a professional) keeps their
        seat; anyone else gets a new one."""
        assert self.user is not None
        earlier = await get_participant(self.redis, c.gp_participant) if c.gp_participant else None
        return earlier.id if earlier and earlier.user_id == self.user.id else new_id()

    async def _join_as_gp(self, c: Consultation, seat: str) -> None:
        assert self.user is not None
        p = await get_participant(self.redis, seat) or await create_participant(
            self.redis, c.id, "gp", self.user.display_name, self.user.id, participant_id=seat
        )
        self.consultation = c
        await self._take_seat(p)
        await self._enter_call(c, p)

    async def _admit_professional(
        self, c: Consultation, participant_id: str, ref: str | None
    ) -> None:
        """Let an invited professional in; the GP opens the call for it if need be."""
        assert self.user is not None
        guest = await get_participant(self.redis, participant_id)
        if guest is None or guest.consultation_id != c.id or guest.role != "staff":
            raise m.ProtocolError("unknown_participant", "no such professional here", ref)
        if not await lobby.leave(self.redis, c.clinic_id, guest.id):
            raise m.ProtocolError("not_waiting", "this professional is not waiting", ref)
        if self.participant is None:
            seat = await self._gp_seat_id(c)
            if not await call.open_call(self.redis, c, self.user.id, seat):
                raise m.ProtocolError("not_open", "this consultation is over", ref)
            await self._join_as_gp(await get_consultation(self.redis, c.id) or c, seat)
            await announce_changed(self.redis, self.router, c)
        await set_admitted(self.redis, guest.id, True)
        await self._publish(keys.participant_channel(guest.id), {"_ctl": "admitted"})
        await announce_lobby_left(self.router, c.clinic_id, guest.id, reason="admitted")

    async def _rejoin(self, msg: m.Rejoin) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        p = await get_participant(self.redis, c.gp_participant) if c.gp_participant else None
        assert self.user is not None
        if p is None or p.user_id != self.user.id or not await self._call_open(c):
            raise m.ProtocolError("not_your_call", "you are not holding this call", msg.ref)
        if self.participant is not None and self.participant.id != p.id:
            raise m.ProtocolError("busy", "end your current call first", msg.ref)
        self.consultation = c
        await self._take_seat(p)
        await self._enter_call(c, p)

    async def _signal(self, msg: m.Signal) -> None:
        if (msg.description is None) == (msg.candidate is None):
            raise m.ProtocolError("invalid_message", "send a description or a candidate", msg.ref)
        members = await self._call_members(msg.ref)
        if msg.to not in members:
            raise m.ProtocolError("unknown_peer", "that participant is not in your call", msg.ref)
        assert self.participant is not None
        relayed = m.RelayedSignal(
            from_=self.participant.id, description=msg.description, candidate=msg.candidate
        )
        await self._publish(keys.participant_channel(msg.to), relayed)

    async def _media_state(self, msg: m.MediaState) -> None:
        members = await self._call_members(msg.ref)
        assert self.participant is not None
        state = m.PeerMediaState(
            participant_id=self.participant.id, audio=msg.audio, video=msg.video
        )
        for other in members - {self.participant.id}:
            await self._publish(keys.participant_channel(other), state)

    async def _chat(self, msg: m.Chat) -> None:
        members = await self._call_members(msg.ref)
        assert self.participant is not None
        line = m.ChatMessage(
            from_=self.participant.id,
            display_name=self.participant.display_name,
            text=msg.text,
            at=now(),
        )
        for other in members - {self.participant.id}:
            await self._publish(keys.participant_channel(other), line)

    async def _call_members(self, ref: str | None) -> set[str]:
        if self.participant is None or self.consultation is None:
            raise m.ProtocolError("not_in_call", "you are not in a call", ref)
        members = await call.members(self.redis, self.consultation.id)
        if self.participant.id not in members:
            raise m.ProtocolError("not_in_call", "you are not in a call", ref)
        return members

    async def _leave(self, msg: m.Leave) -> None:
        if self.role != "patient" or self.consultation is None:
            raise m.ProtocolError("forbidden", "only a patient leaves this way", msg.ref)
        c = await get_consultation(self.redis, self.consultation.id) or self.consultation
        if (score := await queue.leave(self.redis, c, reason="left")) is not None:
            await announce_left(self.redis, self.router, c, score, reason="left")
        await self._stop_waiting()
        await self._give_up_seat(reason="left")
        self.send(m.Left())

    async def _end(self, msg: m.End) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        ended = await call.end(self.redis, c, continued_by_phone=msg.continued_by_phone)
        if ended is None:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        done = ended.consultation
        if done.started_at is not None and done.ended_at is not None:
            await record_duration(self.redis, c.clinic_id, done.ended_at - done.started_at)
        # Everyone with a seat hears it: those in the call, a patient still waiting, and
        # invited professionals still in the lobby (who leave it).
        guests = [i.participant_id for i in await consultation_invitations(self.redis, c.id)]
        for guest in guests:
            if await lobby.leave(self.redis, c.clinic_id, guest):
                await announce_lobby_left(self.router, c.clinic_id, guest, reason="ended")
        control = {"_ctl": "ended", "billing_code": done.billing_code, "consultation_id": c.id}
        seats = {*ended.members, *guests, done.patient_participant, done.gp_participant}
        for pid in seats - {""}:
            await self._publish(keys.participant_channel(pid), control)
        if ended.queue_score is not None:
            await announce_left(self.redis, self.router, c, ended.queue_score, reason="ended")
        else:
            await announce_changed(self.redis, self.router, c)
        await notetaker.call_ended(self.redis, self.router, done)

    async def _message(self, msg: m.SendMessage) -> None:
        c = await self._own_waiting(msg.consultation_id, msg.ref)
        note = await add_clinic_message(self.redis, c.id, msg.text)
        await self._publish(
            keys.participant_channel(c.patient_participant),
            m.ClinicMessage(text=note.text, at=note.at),
        )

    async def _transfer(self, msg: m.Transfer) -> None:
        c = await self._own_waiting(msg.consultation_id, msg.ref)
        colleague = await get_user(self.redis, msg.to_user)
        if colleague is None or colleague.clinic_id != c.clinic_id or colleague.role != "gp":
            raise m.ProtocolError("unknown_colleague", "no such GP in your clinic", msg.ref)
        await update_consultation(self.redis, c, practitioner_id=colleague.id)
        await append_event(
            self.redis, "patient.transferred", consultation_id=c.id, clinic_id=c.clinic_id,
            to_practitioner_id=colleague.id,
        )  # fmt: skip
        await announce_changed(self.redis, self.router, c)

    async def _hold(self, msg: m.Hold) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        if self.participant is None or c.gp_participant != self.participant.id:
            raise m.ProtocolError("not_your_call", "you are not holding this call", msg.ref)
        score = await queue.hold(self.redis, c)
        if score is None:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        # Anyone else in the call (an invited professional) stays with the GP; alone, the
        # GP goes back to the list.
        others = await call.members(self.redis, c.id) - {self.participant.id}
        if others:
            left = m.PeerLeft(participant_id=c.patient_participant, reason="held")
            self.send(left)
            for other in others:
                await self._publish(keys.participant_channel(other), left)
        else:
            await self._give_up_seat(reason="held")
        await self._publish(keys.participant_channel(c.patient_participant), {"_ctl": "held"})
        await announce_joined(self.redis, self.router, c, score)

    async def _remove(self, msg: m.Remove) -> None:
        c = await self._own_waiting(msg.consultation_id, msg.ref)
        score = await queue.leave(self.redis, c, reason="removed")
        if score is None:
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)
        control = {"_ctl": "removed", "text": msg.text}
        await self._publish(keys.participant_channel(c.patient_participant), control)
        await announce_left(self.redis, self.router, c, score, reason="removed")

    async def _remove_participant(self, msg: m.RemoveParticipant) -> None:
        """Take an invited professional or the patient out without ending the call; the
        link they came by stops working. Their own session leaves the call and tells the
        others (or, if they are not connected, there is nobody to tell)."""
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        p = await get_participant(self.redis, msg.participant_id)
        if p is None or p.consultation_id != c.id or p.role == "gp":
            raise m.ProtocolError("unknown_participant", "no such participant here", msg.ref)
        if p.role == "staff":
            invitation = await invitation_for_participant(self.redis, c.id, p.id)
            if invitation is not None:
                await revoke_invitation(self.redis, invitation)
            await set_admitted(self.redis, p.id, False)
            if await lobby.leave(self.redis, c.clinic_id, p.id):
                await announce_lobby_left(self.router, c.clinic_id, p.id, reason="removed")
        else:
            await revoke_link(self.redis, c)
            if (score := await queue.leave(self.redis, c, reason="removed")) is not None:
                await announce_left(self.redis, self.router, c, score, reason="removed")
        await append_event(
            self.redis, "participant.removed", consultation_id=c.id, clinic_id=c.clinic_id,
            participant_id=p.id, role=p.role,
        )  # fmt: skip
        await self._publish(keys.participant_channel(p.id), {"_ctl": "removed", "text": ""})

    async def _notetaker_offer(self, msg: m.NoteTakerOffer) -> None:
        """Offered in the call, by the GP holding it: the patient hears it explained."""
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        if self.participant is None or c.gp_participant != self.participant.id:
            raise m.ProtocolError("not_your_call", "you are not holding this call", msg.ref)
        if c.status != IN_CALL:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        assert self.user is not None
        await self._notetaker(
            msg.ref, notetaker.offer(self.redis, self.router, self.settings, c, self.user)
        )

    async def _notetaker_consent(self, msg: m.NoteTakerConsent) -> None:
        c = await self._seated_consultation(msg.ref)
        assert self.participant is not None
        given = msg.answer == "given"
        await self._notetaker(
            msg.ref,
            notetaker.answer(
                self.redis, self.router, self.settings, c, self.participant, given,
                msg.text_version, msg.language,
            ),
        )  # fmt: skip

    async def _notetaker_stop(self, msg: m.NoteTakerStop) -> None:
        c = await self._seated_consultation(msg.ref)
        assert self.participant is not None
        await self._notetaker(
            msg.ref, notetaker.withdraw(self.redis, self.router, self.settings, c, self.participant)
        )

    async def _seated_consultation(self, ref: str | None) -> Consultation:
        """The current state of the consultation this socket holds a seat in."""
        c = self.consultation and await get_consultation(self.redis, self.consultation.id)
        if self.participant is None or c is None:
            raise m.ProtocolError("not_in_consultation", "you have no seat here", ref)
        return c

    async def _notetaker(self, ref: str | None, action: Awaitable[None]) -> None:
        try:
            await action
        except notetaker.Refused as exc:
            raise m.ProtocolError(exc.code, exc.message, ref) from exc

    # ---- instructions from other sessions ---------------------------------------------------

    async def _control(self, control: dict[str, Any]) -> None:
        kind = control["_ctl"]
        if kind == "supersede" and control.get("keep") != self.id and self.participant:
            self.send(m.Superseded())
            self.participant = None  # the seat belongs to the newer tab now
            await self._stop_waiting()
            await self._drop_channels()
            self._outbox.put_nowait({"_close": 4001})
        elif kind == "admitted" and self.participant and self.consultation:
            await self._stop_waiting()
            self._in_lobby = False
            await queue.forget_presence(self.redis, self.participant.id)
            c = await get_consultation(self.redis, self.consultation.id)
            if c is not None and (c.status == IN_CALL or self.role == "staff"):
                self.consultation = c
                await self._enter_call(c, self.participant)
        elif kind == "held" and self.participant and self.consultation:
            c = await get_consultation(self.redis, self.consultation.id)
            if c is not None and c.status == WAITING:
                self.consultation = c
                self.send(m.Held())
                await self._start_waiting(c, self.participant, None)
        elif kind == "removed" and self.participant:
            await self._stop_waiting()
            await self._leave_lobby(reason="removed")
            self.send(m.Removed(text=control.get("text", "")))
            await self._give_up_seat(reason="removed")
        elif kind == "ended" and self.participant:
            await self._stop_waiting()
            self._in_lobby = False  # the GP's end took everyone out of the lobby
            self.send(
                m.CallEnded(
                    consultation_id=control["consultation_id"],
                    billing_code=control["billing_code"],
                )
            )
            await self._give_up_seat(reason="ended")

    # ---- waiting ----------------------------------------------------------------------------

    async def _start_waiting(self, c: Consultation, p: Participant, joined: float | None) -> None:
        """Follow this patient's place from queue deltas; announce them to the clinic."""
        await self._listen(keys.queue_channel(c.clinic_id))
        score = await queue.score_of(self.redis, c)
        place = await queue.rank(self.redis, c)
        if score is not None and place is not None:
            self._queue_key = (score, c.id)
            self._position = place + 1
            self._pace = await clinic_pace(self.redis, c.clinic_id)
            self._send_waiting()
        self.presence.add_waiter(self)
        if joined is not None:
            await announce_joined(self.redis, self.router, c, joined)
        else:
            await announce_changed(self.redis, self.router, c)  # now connected

    async def _stop_waiting(self) -> None:
        self.presence.discard_waiter(self)
        self._queue_key = None
        if self.consultation is not None:
            await self._unlisten(keys.queue_channel(self.consultation.clinic_id))

    # ---- seats and calls --------------------------------------------------------------------

    async def _take_seat(self, p: Participant) -> None:
        """Hold the participant's seat with this socket; any older socket for it is told."""
        self.participant = p
        channel = keys.participant_channel(p.id)
        await self._listen(channel)
        await claim_seat(self.redis, p.id, self.id)
        await self._publish(channel, {"_ctl": "supersede", "keep": self.id})

    async def _enter_call(self, c: Consultation, p: Participant) -> None:
        others = await call.connect(self.redis, c.id, p.id)
        peers = [peer for peer in [await self._peer(pid) for pid in others] if peer is not None]
        self.send(
            m.CallJoined(
                consultation_id=c.id,
                participant_id=p.id,
                peers=peers,
                ice_servers=ice_servers(self.settings, p.id),
            )
        )
        me = m.PeerJoined(peer=_peer(p))
        for other in others:
            await self._publish(keys.participant_channel(other), me)
        await self._send_notetaker_state(c)

    async def _send_notetaker_state(self, c: Consultation) -> None:
        """A (re)joining screen learns at once whether the note-taker is listening."""
        status = await notetaker.status(self.redis, self.settings, c)
        if status is not None:
            self.send(status)

    async def _peer(self, participant_id: str) -> m.Peer | None:
        p = await get_participant(self.redis, participant_id)
        return _peer(p) if p else None

    async def _give_up_seat(self, reason: str) -> None:
        """Leave the call (if in one) and free the seat, telling the others."""
        p, c = self.participant, self.consultation
        if p is None:
            return
        self.participant = None
        if await release_seat(self.redis, p.id, self.id):
            await queue.departed(self.redis, p.id)
            if c is not None:
                remaining = await call.disconnect(self.redis, c.id, p.id)
                left = m.PeerLeft(participant_id=p.id, reason=reason)
                for other in remaining:
                    await self._publish(keys.participant_channel(other), left)
        await self._unlisten(keys.participant_channel(p.id))

    async def _drop_channels(self) -> None:
        for channel in list(self._channels):
            await self._unlisten(channel)

    async def _close(self) -> None:
        async with self._lock:
            was_waiting = self._queue_key is not None
            consultation = self.consultation
            await self._stop_waiting()
            await self._leave_lobby(reason="disconnected")
            self.presence.discard_gp(self.id)
            await self._give_up_seat(reason="disconnected")
            await self._drop_channels()
            if was_waiting and consultation is not None:
                # The patient keeps their place for the grace period; GPs see them offline.
                await announce_changed(self.redis, self.router, consultation)


def _peer(p: Participant) -> m.Peer:
    return m.Peer(
        participant_id=p.id,
        role=p.role,
        display_name=p.display_name,
        title=p.title or None,
        organisation=p.organisation_name or None,
    )
