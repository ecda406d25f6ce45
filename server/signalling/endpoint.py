"""The `/ws` endpoint: upgrade, then hand the socket to a Session."""

from __future__ import annotations

from aiohttp import WSCloseCode, web

from server.api.problems import problem
from server.appkeys import KEEPALIVE, REDIS, SOCKETS
from server.auth.tokens import token_hash
from server.auth.web import same_origin, web_session
from server.signalling.session import Session
from server.store.users import get_user

MAX_MESSAGE_BYTES = 64 * 1024


async def websocket(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise problem(403, "bad_origin", "cross-site request refused")
    # No heartbeat of aiohttp's, and pings are answered by the session: the instance's
    # keep-alive round (server/signalling/keepalive.py) pings and hears every socket.
    ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    login = await web_session(request)
    user = await get_user(request.app[REDIS], login.user_id) if login else None
    session = Session(
        request.app,
        ws,
        user,
        token_hash(login.token) if login else None,
        login.scope if login else None,
    )
    request.app[SOCKETS].add(ws)
    if request.transport is not None:
        request.app[KEEPALIVE].add(ws, request.transport)
    try:
        await session.run()
    finally:
        request.app[SOCKETS].discard(ws)
        request.app[KEEPALIVE].discard(ws)
    return ws


async def close_sockets(app: web.Application) -> None:
    for ws in app[SOCKETS].copy():
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
