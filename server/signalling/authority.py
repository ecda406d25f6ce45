"""Ending a professional's login, and with it every socket it opened, on every instance.

A socket says who it is once (`hello`) and then acts with that authority for as long as it
lives, so ending the login in Redis alone would leave open consoles acting and hearing
new patients' names. Each socket opened with a login listens on its user's channel
(`keys.user_channel`); ending the login publishes `SessionEnded` there, and each of those
sockets, on whichever instance holds it, gives up its seat and closes (code 4003).
"""

from __future__ import annotations

import json

from server.auth.tokens import token_hash
from server.signalling.controls import SessionEnded, wire
from server.store import keys
from server.store.connection import Redis
from server.store.sessions import close_session, close_user_sessions, session_user_id


async def _tell(redis: Redis, user_id: str, ended: SessionEnded) -> None:
    await redis.publish(keys.user_channel(user_id), json.dumps(wire(ended)))


async def end_session(redis: Redis, token: str) -> None:
    """Log out: this one session (a browser's login, or an embed) and its sockets."""
    user_id = await session_user_id(redis, token)
    await close_session(redis, token)
    if user_id:
        await _tell(redis, user_id, SessionEnded(session=token_hash(token)))


async def end_user_sessions(redis: Redis, user_id: str) -> None:
    """Every session of the user, and every socket they have open: after a password reset,
    when the account is removed, or when what it may do changes."""
    await close_user_sessions(redis, user_id)
    await _tell(redis, user_id, SessionEnded(session=None))
