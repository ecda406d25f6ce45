"""One signalling WebSocket: who is on it, what it may do, and relaying for it.

A session starts anonymous, becomes a patient or a GP with `hello`, and may then hold a
participant's seat in a call. Messages from other instances arrive through the router; those
with a `_ctl` key are instructions to this session rather than messages for the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any

from aiohttp import WSMsgType, web

from server.appkeys import REDIS, ROUTER, SETTINGS
from server.auth.tokens import new_id, token_hash
from server.auth.turn import ice_servers
from server.clock import local_day, now
from server.consultations import call
from server.consultations.linkrules import LinkState
from server.signalling import messages as m
from server.signalling.clinicstate import clinic_state, publish_clinic_state
from server.signalling.ratelimit import TokenBucket
from server.store import keys
from server.store.consultations import (
    ENDED,
    IN_CALL,
    Consultation,
    consultations_on_day,
    get_consultation,
)
from server.store.links import resolve_link
from server.store.participants import (
    Participant,
    claim_seat,
    create_participant,
    get_participant,
    release_seat,
)
from server.store.users import User
from server.waitingroom import queue

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
PRESENCE_TTL = 25


class SignallingSession:
    def __init__(self, app: web.Application, ws: web.WebSocketResponse, user: User | None) -> None:
        self.id = new_id()
        self.ws = ws
        self.user = user
        self.redis = app[REDIS]
        self.router = app[ROUTER]
        self.settings = app[SETTINGS]
        self.role: str | None = None
        self.participant: Participant | None = None
        self.consultation: Consultation | None = None
        self._channels: set[str] = set()
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._controls: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._bucket = TokenBucket(rate=50, burst=200)
        self._heartbeat: asyncio.Task[None] | None = None

    # ---- plumbing ---------------------------------------------------------------------------

    def deliver(self, message: dict[str, Any]) -> None:
        if "_ctl" in message:
            self._controls.put_nowait(message)
        else:
            self._outbox.put_nowait(message)

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
            controls.cancel()
            await self._close()
            self._outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
                await controls

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
        while True:
            control = await self._controls.get()
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
        }
        await handlers[type(msg)](msg)

    async def _hello(self, msg: m.Hello) -> None:
        if self.role is not None:
            raise m.ProtocolError("already_hello", "hello was already received", msg.ref)
        if msg.link is not None:
            await self._hello_patient(msg)
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
        if c.status not in (ENDED, IN_CALL):
            await queue.heartbeat(self.redis, p.id, PRESENCE_TTL)
            if not await queue.enter(self.redis, c):
                raise m.ProtocolError("cannot_wait", "this consultation is not open", msg.ref)
        self.role = "patient"
        self.consultation = c
        await self._take_seat(p)
        welcome = partial(m.Welcome, role="patient", connection_id=self.id, participant_id=p.id)
        if c.status == ENDED:
            self.send(welcome(state="ended"))
            self.send(m.CallEnded(consultation_id=c.id, billing_code=c.billing_code))
        elif c.status == IN_CALL:
            self.send(welcome(state="in_call"))
            await self._enter_call(c, p)
        else:
            self.send(welcome(state="waiting"))
            self._heartbeat = asyncio.create_task(self._beat(p.id))
            await publish_clinic_state(self.redis, self.router, c.clinic_id)

    async def _hello_gp(self) -> None:
        assert self.user is not None
        self.role = "gp"
        await self._listen(keys.clinic_channel(self.user.clinic_id))
        self.send(
            m.Welcome(
                role="gp", connection_id=self.id, state="idle", active_call=await self._held_call()
            )
        )
        self.send(await clinic_state(self.redis, self.user.clinic_id))

    async def _held_call(self) -> str | None:
        """A call this GP holds in today's list, to offer rejoining after a reload."""
        assert self.user is not None
        for c in await consultations_on_day(self.redis, self.user.clinic_id, local_day(now())):
            if c.status == IN_CALL and c.practitioner_id == self.user.id:
                return c.id
        return None

    async def _own_consultation(self, consultation_id: str, ref: str | None) -> Consultation:
        """The consultation, if it belongs to this GP's clinic; otherwise refuse."""
        if self.role != "gp" or self.user is None:
            raise m.ProtocolError("forbidden", "only a clinician may do that", ref)
        c = await get_consultation(self.redis, consultation_id)
        if c is None or c.clinic_id != self.user.clinic_id:
            raise m.ProtocolError("forbidden", "no such consultation in your clinic", ref)
        return c

    async def _admit(self, msg: m.Admit) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        assert self.user is not None
        if self.participant is not None:
            raise m.ProtocolError("busy", "end your current call first", msg.ref)
        seat = new_id()
        if not await queue.admit(self.redis, c, self.user.id, seat):
            raise m.ProtocolError("not_waiting", "this patient is not waiting", msg.ref)
        p = await create_participant(
            self.redis, c.id, "gp", self.user.display_name, self.user.id, participant_id=seat
        )
        c = await get_consultation(self.redis, c.id) or c
        self.consultation = c
        await self._take_seat(p)
        await self._enter_call(c, p)
        await self._publish(keys.participant_channel(c.patient_participant), {"_ctl": "admitted"})
        await publish_clinic_state(self.redis, self.router, c.clinic_id)

    async def _rejoin(self, msg: m.Rejoin) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        p = await get_participant(self.redis, c.gp_participant) if c.gp_participant else None
        assert self.user is not None
        if c.status != IN_CALL or p is None or p.user_id != self.user.id:
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
        if await queue.leave(self.redis, c, reason="left"):
            await publish_clinic_state(self.redis, self.router, c.clinic_id)
        await self._give_up_seat(reason="left")
        self.send(m.Left())

    async def _end(self, msg: m.End) -> None:
        c = await self._own_consultation(msg.consultation_id, msg.ref)
        ended = await call.end(self.redis, c, continued_by_phone=msg.continued_by_phone)
        if ended is None:
            raise m.ProtocolError("not_in_call", "this consultation is not in a call", msg.ref)
        control = {"_ctl": "ended", "billing_code": ended.billing_code, "consultation_id": c.id}
        for pid in {ended.patient_participant, ended.gp_participant} - {""}:
            await self._publish(keys.participant_channel(pid), control)
        await publish_clinic_state(self.redis, self.router, c.clinic_id)

    # ---- instructions from other sessions ---------------------------------------------------

    async def _control(self, control: dict[str, Any]) -> None:
        kind = control["_ctl"]
        if kind == "supersede" and control.get("keep") != self.id and self.participant:
            self.send(m.Superseded())
            self.participant = None  # the seat belongs to the newer tab now
            await self._drop_channels()
            self._outbox.put_nowait({"_close": 4001})
        elif kind == "admitted" and self.participant and self.consultation:
            self._stop_heartbeat()
            await queue.forget_presence(self.redis, self.participant.id)
            c = await get_consultation(self.redis, self.consultation.id)
            if c is not None and c.status == IN_CALL:
                self.consultation = c
                await self._enter_call(c, self.participant)
        elif kind == "ended" and self.participant:
            self.send(
                m.CallEnded(
                    consultation_id=control["consultation_id"], billing_code=control["billing_code"]
                )
            )
            await self._give_up_seat(reason="ended")

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
        me = m.PeerJoined(
            peer=m.Peer(participant_id=p.id, role=p.role, display_name=p.display_name)
        )
        for other in others:
            await self._publish(keys.participant_channel(other), me)

    async def _peer(self, participant_id: str) -> m.Peer | None:
        p = await get_participant(self.redis, participant_id)
        if p is None:
            return None
        return m.Peer(participant_id=p.id, role=p.role, display_name=p.display_name)

    async def _give_up_seat(self, reason: str) -> None:
        """Leave the call (if in one) and free the seat, telling the others."""
        p, c = self.participant, self.consultation
        self._stop_heartbeat()
        if p is None:
            return
        self.participant = None
        if await release_seat(self.redis, p.id, self.id):
            await self.redis.delete(keys.presence(p.id))
            if c is not None:
                remaining = await call.disconnect(self.redis, c.id, p.id)
                left = m.PeerLeft(participant_id=p.id, reason=reason)
                for other in remaining:
                    await self._publish(keys.participant_channel(other), left)
        await self._unlisten(keys.participant_channel(p.id))

    async def _beat(self, participant_id: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await queue.heartbeat(self.redis, participant_id, PRESENCE_TTL)

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None

    async def _drop_channels(self) -> None:
        for channel in list(self._channels):
            await self._unlisten(channel)

    async def _close(self) -> None:
        async with self._lock:
            was_waiting = self.role == "patient" and self._heartbeat is not None
            consultation = self.consultation
            await self._give_up_seat(reason="disconnected")
            await self._drop_channels()
            if was_waiting and consultation is not None:
                # The patient keeps their place for the grace period; GPs see them as offline.
                await publish_clinic_state(self.redis, self.router, consultation.clinic_id)
