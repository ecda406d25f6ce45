"""Relaying one WebRTC signal between two seats of a call: one look at Redis, then the
shortest way to the other socket.

A signal is the hot path of a call (an offer, an answer and a few dozen candidates per
peer connection, more on every ICE restart), so it is relayed with as little as the
security model allows (issue 19: it cost ~0.5 ms of server CPU and three Redis round
trips; now one round trip, and no second one when both sockets are on this instance;
the round trip is shared with the other signals of the same turn of the event loop,
server/store/coalescer.py).

Authorised on every message, exactly, in one round trip (a pipeline), because state a
socket could keep goes stale unheard: a hold takes the patient out of the call without a
word to the GP's socket, and the news of a logout travels over pub/sub, which is at most
once. The pipeline reads:
- whether the sender and the receiver are both members of the call;
- whether the login the socket was opened with still stands (professionals' sockets);
- which socket holds the receiver's seat now (the newest one, `claim_seat`).

Routing, as LiveKit routes locally when it can: when the holder is a socket on this
instance, the frame goes straight into its outbox; otherwise it is published on the
receiver's participant channel and the instance holding it hands it over. Either way the
signal is encoded once, here (`Frame`), and its text is what the receiving socket sends.
Per-sender order holds: a socket relays one message at a time (the session's lock), and
the way to a given receiving socket is always the same one (it is here or it is not).
Against other messages to that socket, sent through Redis, order does not hold: a signal
relayed here can overtake the `peer.joined` announcing its sender, so the call page keeps
a signal from a peer it does not know yet until that peer joins (web/static/js/call.js).

Overload is pushed back, never dropped:
- backpressure first: a socket's next frame is not read until its last signal is relayed,
  so a sender outrunning Redis waits (and TCP slows the browser);
- a receiver whose outbox already holds `OUTBOX_LIMIT` frames (a stalled browser), or a
  Redis that gives no connection or no answer (pool exhausted, backlog, outage), refuses
  the signal with the stable code `overloaded` and a retry hint, `retry_after_ms`. The
  browser sends the same signal (same `ref`) again after that, with backoff
  (web/static/js/signalling.js).
- order survives a refusal: once a signal to a peer is refused, every later one to that
  peer is refused too (`Refused`) until the refused one comes back; the browser resends
  what was refused in the order it was refused. (A signal without a `ref` cannot be
  recognised when it comes back, so it does not hold the others up.)
A signal is therefore delivered, or its sender is told; when a publish fails after Redis
took it, a retry can deliver it twice, which WebRTC tolerates (candidates are idempotent,
perfect negotiation ignores a repeated description).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast

from redis.exceptions import RedisError

from server.signalling import messages as m
from server.signalling.controls import Frame
from server.store import decoded, keys
from server.store.coalescer import Command

if TYPE_CHECKING:
    from server.signalling.session import Session

# A receiver this far behind is not sent more signals; its sender is told to retry.
OUTBOX_LIMIT: Final = 64
RETRY_AFTER_MS: Final = 250


@dataclass(frozen=True, slots=True)
class Login:
    """The login a professional's socket was opened with: the user and the session's hash."""

    user_id: str
    hashed: str


class SeatHolder(Protocol):
    """A socket on this instance that may hold the receiver's seat (a Session; known by its
    `id`, which only a socket has, as an isinstance check on a Protocol costs ~10 µs)."""

    id: str

    @property
    def backlog(self) -> int: ...

    def deliver(self, message: Frame) -> None: ...


# Per seat: the receiver -> the `ref` of the signal to it refused first, not yet resent.
Refused = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Looked:
    sender_in_call: bool
    receiver_in_call: bool
    holder: str
    login_stands: bool


def overloaded(ref: str | None) -> m.ProtocolError:
    return m.ProtocolError(
        "overloaded", "the server is busy; send it again", ref, retry_after_ms=RETRY_AFTER_MS
    )


async def look(
    session: Session, consultation_id: str, sender: str, receiver: str, login: Login | None
) -> Looked:
    commands: list[Command] = [
        ("SMISMEMBER", keys.call_members(consultation_id), sender, receiver),
        ("HGET", keys.participant(receiver), "connection"),
    ]
    if login is not None:
        commands.append(("GET", keys.session(login.hashed)))
    replies = await session.coalescer.execute(commands)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    sender_in, receiver_in = replies[0]
    return Looked(
        sender_in_call=bool(sender_in),
        receiver_in_call=bool(receiver_in),
        holder=decoded.text(replies[1]) or "",
        login_stands=login is None or decoded.text(replies[2]) == login.user_id,
    )


def encode(sender: str, msg: m.Signal) -> Frame:
    """The relayed signal as the receiving browser reads it (`m.RelayedSignal`)."""
    body: dict[str, object] = {"v": 1, "type": "signal", "from": sender}
    if msg.description is not None:
        body["description"] = {"type": msg.description.type, "sdp": msg.description.sdp}
    if msg.candidate is not None:
        body["candidate"] = msg.candidate.model_dump(exclude_none=True)
    return Frame(json.dumps(body, separators=(",", ":")))


async def signal(
    session: Session,
    consultation_id: str,
    sender: str,
    msg: m.Signal,
    login: Login | None,
    refused: Refused,
) -> bool:
    """Relay the signal to `msg.to`, or refuse it with a ProtocolError. False, and nothing
    relayed, when the socket's login has ended."""
    if msg.to in refused:
        if msg.ref is None or refused[msg.to] != msg.ref:
            raise overloaded(msg.ref)  # one before it is still to come back
        del refused[msg.to]
    try:
        return await _relay(session, consultation_id, sender, msg, login)
    except m.ProtocolError as exc:
        if exc.code == "overloaded" and msg.ref is not None:
            refused[msg.to] = msg.ref
        raise


async def _relay(
    session: Session, consultation_id: str, sender: str, msg: m.Signal, login: Login | None
) -> bool:
    if msg.to == sender:
        raise m.ProtocolError("unknown_peer", "that participant is not in your call", msg.ref)
    try:
        looked = await look(session, consultation_id, sender, msg.to, login)
    except RedisError as exc:
        raise overloaded(msg.ref) from exc
    if not looked.login_stands:
        return False
    if not looked.sender_in_call:
        raise m.ProtocolError("not_in_call", "you are not in a call", msg.ref)
    if not looked.receiver_in_call:
        raise m.ProtocolError("unknown_peer", "that participant is not in your call", msg.ref)
    frame = encode(sender, msg)
    channel = keys.participant_channel(msg.to)
    for listener in session.router.local_listeners(channel):
        if getattr(listener, "id", None) == looked.holder:
            holder = cast(SeatHolder, listener)
            if holder.backlog >= OUTBOX_LIMIT:
                raise overloaded(msg.ref)
            holder.deliver(frame)
            return True
    try:
        await session.router.publish(channel, frame)
    except RedisError as exc:
        raise overloaded(msg.ref) from exc
    return True
