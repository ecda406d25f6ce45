"""The `/ws` endpoint: upgrade, then hand the socket to a Session."""

from __future__ import annotations

from aiohttp import WSCloseCode, web

from server.api.problems import problem
from server.appkeys import REDIS, SOCKETS
from server.auth.tokens import token_hash
from server.auth.web import same_origin, web_session
from server.signalling.session import Session
from server.store.users import get_user

MAX_MESSAGE_BYTES = 64 * 1024


async def websocket(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise problem(403, "bad_origin", "cross-site request refused")
    ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
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
    try:
        await session.run()
    finally:
        request.app[SOCKETS].discard(ws)
    return ws


async def close_sockets(app: web.Application) -> None:
    for ws in app[SOCKETS].copy():
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
