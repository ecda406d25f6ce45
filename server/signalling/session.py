"""One signalling WebSocket: reading, writing, and handing each message to its role.

A session starts anonymous (`NEW`) and becomes a patient, a clinician or an invited
professional with `hello`; from then on its role's table decides what it may send. What
arrives from other instances through the router is either a browser message (queued for
the socket as it is) or a typed control for this session's role.

A socket opened with a professional's login follows that login (`authority`): when it
ends, the socket lets go of everything and closes, whatever it was doing.

Thousands of patients wait on one instance and hear almost nothing, so an idle socket
holds no task of its own besides aiohttp's reader: what is to be sent, and controls to be
acted on, wait in a deque, and a task to drain it is started only when something arrives
and ends when the deque is empty (one at a time per deque, so order is kept). Only a socket
with a professional's login has a task that wakes up, to re-check that login.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web
from redis.exceptions import RedisError

from server import safejson
from server.appkeys import COALESCER, KEEPALIVE, PLACES, PRESENCE, REDIS, ROOM, ROUTER, SETTINGS
from server.auth.tokens import new_id
from server.clock import now
from server.signalling import controls
from server.signalling import messages as m
from server.signalling.clinician import ClinicianRole
from server.signalling.patient import PatientRole
from server.signalling.professional import ProfessionalRole
from server.signalling.ratelimit import TokenBucket
from server.signalling.relay import Login, overloaded
from server.signalling.role import Role
from server.signalling.state import SessionState, check_move, may_move
from server.store import keys
from server.store.consultations import get_consultation
from server.store.embeds import embed_lapsed
from server.store.sessions import session_alive
from server.store.users import User, UserRole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _CloseSocket:
    code: int
    reason: bytes = b"superseded"


# A socket whose login ended (server.signalling.authority): the browser goes to log in.
SESSION_ENDED_CLOSE = 4003
# How often a socket looks whether its login still stands, in case the news was missed
# (pub/sub is at most once) or the login simply ran out.
LOGIN_CHECK_SECONDS = 30.0


class Session:
    __slots__ = (
        "_bucket", "_channels", "_controls", "_finishing", "_gone", "_instructing", "_lock",
        "_outbox", "_writing", "coalescer", "id", "keepalive", "login", "places", "presence",
        "redis", "role", "room", "router", "scope", "settings", "state", "user", "ws",
    )  # fmt: skip

    def __init__(
        self,
        app: web.Application,
        ws: web.WebSocketResponse,
        user: User | None,
        login: str | None = None,
        scope: str | None = None,
    ) -> None:
        self.id = new_id()
        self.ws = ws
        self.user = user
        self.login = login  # the hash of the login session the socket was opened with
        # An LPS's embedded view: the one consultation this socket may see and act on.
        self.scope = scope
        self.redis = app[REDIS]
        self.coalescer = app[COALESCER]
        self.router = app[ROUTER]
        self.room = app[ROOM]
        self.settings = app[SETTINGS]
        self.presence = app[PRESENCE]
        self.places = app[PLACES]
        self.keepalive = app[KEEPALIVE]
        self.state = SessionState.NEW
        self.role: Role | None = None
        self._channels: list[str] = []  # one or two: a list is a quarter of a set's size
        # Each deque exists only while its task drains it (an empty deque is 600 bytes).
        # What waits for the browser: dicts to encode, or text encoded once already (a Frame's).
        self._outbox: deque[dict[str, Any] | str | _CloseSocket] | None = None
        self._writing: asyncio.Task[None] | None = None
        self._controls: deque[controls.Control] | None = None
        self._instructing: asyncio.Task[None] | None = None
        self._finishing = False  # controls that arrive from then on are for a socket gone
        self._lock = asyncio.Lock()
        self._gone: asyncio.Event | None = None  # set when finishing, for the login watcher
        self._bucket = TokenBucket(rate=50, burst=200)

    def may_move(self, to: SessionState) -> bool:
        return may_move(self.state, to)

    def move_to(self, to: SessionState) -> None:
        self.state = check_move(self.state, to)

    # ---- to the browser ---------------------------------------------------------------------

    def deliver(self, message: controls.Delivery) -> None:
        """From the router: must not block. Controls wait for the session's lock (a waiting
        patient's queue moves come through the place board, server/signalling/placeboard.py)."""
        if isinstance(message, controls.Frame):
            self._post(message.text)  # a relayed signal, of this socket's call
        elif isinstance(message, dict):
            if self.in_scope(message):
                self._post(message)
        else:
            self._instruct(message)

    def in_scope(self, message: dict[str, Any]) -> bool:
        """An embedded view hears only of its own consultation: a message naming another
        (a clinic's queue or day entry) is not for it."""
        if self.scope is None:
            return True
        entry = message.get("entry")
        named = entry.get("consultation_id") if isinstance(entry, dict) else None
        named = message.get("consultation_id", named)
        return named is None or named == self.scope

    @property
    def backlog(self) -> int:
        """Messages waiting for the browser to take them (a stalled one lets them pile up)."""
        return len(self._outbox) if self._outbox is not None else 0

    def send(self, message: m.BaseModel) -> None:
        self._post(m.dump(message))

    def send_raw(self, message: dict[str, Any]) -> None:
        self._post(message)

    def error(
        self, code: str, message: str, ref: str | None = None, retry_after_ms: int | None = None
    ) -> None:
        self.send(m.Error(code=code, message=message, ref=ref, retry_after_ms=retry_after_ms))

    def close_socket(self, code: int, reason: bytes = b"superseded") -> None:
        """Close after everything queued before has been sent."""
        self._post(_CloseSocket(code, reason))

    def _post(self, message: dict[str, Any] | str | _CloseSocket) -> None:
        if self._outbox is not None:
            self._outbox.append(message)
        else:
            self._outbox = deque((message,))
            self._writing = asyncio.get_running_loop().create_task(self._write(self._outbox))

    async def _write(self, outbox: deque[dict[str, Any] | str | _CloseSocket]) -> None:
        """Send until the outbox is empty; a closed socket drops what is left."""
        try:
            while outbox:
                message = outbox.popleft()
                if self.ws.closed:
                    break
                if isinstance(message, _CloseSocket):
                    await self.ws.close(code=message.code, message=message.reason)
                    break
                await self.ws.send_str(
                    message if isinstance(message, str) else safejson.dumps(message)
                )
        except ConnectionError:
            pass
        finally:
            self._outbox = None
            self._writing = None

    # ---- channels ---------------------------------------------------------------------------

    async def listen(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.append(channel)
            await self.router.subscribe(channel, self)

    async def unlisten(self, channel: str) -> None:
        if channel in self._channels:
            self._channels.remove(channel)
            await self.router.unsubscribe(channel, self)

    async def drop_channels(self) -> None:
        for channel in list(self._channels):
            await self.unlisten(channel)

    # ---- the socket's life ------------------------------------------------------------------

    async def run(self) -> None:
        watcher = None
        if self.user is not None and self.login is not None:
            self._gone = asyncio.Event()
            watcher = asyncio.create_task(self._watch_login(self.user.id, self.login, self._gone))
        try:
            await self._follow_login()
            async for frame in self.ws:
                self.keepalive.heard(self.ws)
                if frame.type != WSMsgType.TEXT:
                    if frame.type == WSMsgType.BINARY:
                        self.error("malformed", "text frames only")
                    elif frame.type == WSMsgType.PING:  # the endpoint's socket does not autoping
                        with contextlib.suppress(ConnectionError):
                            await self.ws.pong(frame.data)
                    continue
                if not self._bucket.take():
                    self.error("rate_limited", "too many messages; slow down")
                    continue
                await self._receive(frame.data)
        finally:
            # Shielded: aiohttp cancels the handler when the client goes away, and a
            # half-done clean-up would leave the seat, presence and subscriptions behind.
            await asyncio.shield(self._finish(watcher))

    async def _finish(self, watcher: asyncio.Task[None] | None) -> None:
        # An event rather than cancel(): a cancel can be swallowed by a Redis call in
        # flight on Python 3.11 (asyncio.wait_for), which would leave the loop running.
        if self._gone is not None:
            self._gone.set()
        if watcher is not None:
            await watcher
        self._finishing = True
        if self._instructing is not None:
            await self._instructing
        async with self._lock:
            if self.role is not None:
                await self.role.close()
            await self.drop_channels()
            self.move_to(SessionState.CLOSED)
        while self._writing is not None:
            await self._writing

    async def _follow_login(self) -> None:
        """Listen for the end of the login before acting with it; a login that ended before
        we listened is caught by looking once more."""
        if self.user is None or self.login is None:
            return
        await self.listen(keys.user_channel(self.user.id))
        if not await session_alive(self.redis, self.login, self.user.id):
            async with self._lock:
                await self._login_ended()

    async def _watch_login(self, user_id: str, login: str, gone: asyncio.Event) -> None:
        """Every `LOGIN_CHECK_SECONDS`, whether the login still stands; a login that ended
        unheard (or ran out) ends the socket like a `SessionEnded` would."""
        while True:
            try:
                await asyncio.wait_for(gone.wait(), LOGIN_CHECK_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                alive = await self._login_alive(user_id, login)
            except Exception:
                log.exception("could not check a socket's login; trying again later")
                continue
            if not alive:
                self._instruct(controls.SessionEnded(session=login))
                return

    async def _login_ended(self) -> None:
        """Let go of the seat, the clinic's news and the user, then close: nothing the
        socket says from here on is heard with the login's authority."""
        if self.state is SessionState.CLOSED:
            return
        if self.role is not None:
            await self.role.close()
            self.role = None
        self.user = None
        await self.drop_channels()
        self.move_to(SessionState.CLOSED)
        self.error("session_ended", "your login has ended; log in again")
        self.close_socket(SESSION_ENDED_CLOSE, b"session ended")

    async def _receive(self, raw: str) -> None:
        ref: str | None = None
        try:
            msg = m.parse_client_message(raw)
            ref = msg.ref
            async with self._lock:
                if self.state is SessionState.CLOSED:
                    raise m.ProtocolError("closed", "this connection is closing", msg.ref)
                if isinstance(msg, m.Signal) and self._relays_signals():
                    await self._relay(msg)
                    return
                if not await self._login_stands():
                    await self._login_ended()
                    return
                if isinstance(msg, m.Hello):
                    await self._hello(msg)
                elif self.role is None:
                    raise m.ProtocolError("not_ready", "send hello first", msg.ref)
                else:
                    await self.role.handle(msg)
        except m.ProtocolError as exc:
            self.error(exc.code, exc.message, exc.ref or ref, exc.retry_after_ms)
        except RedisError:
            # Redis away or its pool dry: said once per message, without a traceback (which
            # would cost more than the message under the very load that caused it).
            log.warning("signalling message failed: Redis unavailable")
            busy = overloaded(ref)
            self.error(busy.code, busy.message, ref, busy.retry_after_ms)
        except Exception:
            log.exception("signalling message failed")
            self.error("internal", "the server could not handle that message", ref)

    def _relays_signals(self) -> bool:
        """A signal takes the short way (relay.py) where its role's table has it and the
        login needs no more than its session key looked at (not an LPS's embed)."""
        return self.role is not None and m.Signal in self.role.handlers and self.scope is None

    async def _relay(self, msg: m.Signal) -> None:
        """The login is looked at in the same round trip as the call (relay.py)."""
        assert self.role is not None
        login = None
        if self.user is not None and self.login is not None:
            login = Login(self.user.id, self.login)
        if not await self.role.seat.signal(msg, login):
            await self._login_ended()

    async def _login_stands(self) -> bool:
        """Looked at before acting on each message, so no message is ever acted on with a
        login that has ended, even when the news of its end was missed."""
        if self.user is None or self.login is None:
            return True
        return await self._login_alive(self.user.id, self.login)

    async def _login_alive(self, user_id: str, login: str) -> bool:
        """The login is still open; an LPS's embed session also only while its call lasts."""
        if not await session_alive(self.redis, login, user_id):
            return False
        if self.scope is None:
            return True
        c = await get_consultation(self.redis, self.scope)
        return c is not None and not embed_lapsed(c, now())

    def _instruct(self, control: controls.Control) -> None:
        if self._finishing or self._own_supersede(control):
            return
        if self._controls is not None:
            self._controls.append(control)
        else:
            self._controls = deque((control,))
            loop = asyncio.get_running_loop()
            self._instructing = loop.create_task(self._run_controls(self._controls))

    def _own_supersede(self, control: controls.Control) -> bool:
        """The `Supersede` this socket published itself on taking its seat tells it nothing
        (Role.control ignores it), and it comes back while the hello still holds the lock:
        waiting for the lock would give the lock its deque of waiters, kept for the
        socket's life (asyncio.Lock never lets it go), some 700 bytes per waiting patient."""
        return isinstance(control, controls.Supersede) and control.keep == self.id

    async def _run_controls(self, pending: deque[controls.Control]) -> None:
        """Act on the controls in the order they came, each under the session's lock."""
        try:
            while pending:
                control = pending.popleft()
                try:
                    async with self._lock:
                        if isinstance(control, controls.SessionEnded):
                            if control.session in (None, self.login):
                                await self._login_ended()
                        elif self.role is not None:
                            await self.role.control(control)
                except Exception:
                    log.exception("control %s failed", control.ctl)
        finally:
            self._controls = None
            self._instructing = None

    async def _hello(self, msg: m.Hello) -> None:
        """Who this socket is: by a patient's link, a professional's invitation, or a GP's
        login. A refused hello leaves the socket anonymous, to try again."""
        if self.role is not None:
            raise m.ProtocolError("already_hello", "hello was already received", msg.ref)
        if msg.link is not None:
            self.role = PatientRole(self)
        elif msg.invitation is not None:
            self.role = ProfessionalRole(self)
        elif self.user is not None and self.user.role == UserRole.GP:
            self.role = ClinicianRole(self)
        else:
            raise m.ProtocolError("unauthorised", "log in, or open your link again", msg.ref)
        try:
            await self.role.hello(msg)
        except m.ProtocolError:
            self.role = None
            raise
