"""The `/ws` endpoint: upgrade, then hand the socket to a SignallingSession."""

from __future__ import annotations

from aiohttp import web

from server.auth.web import current_user, same_origin
from server.signalling.session import SignallingSession

MAX_MESSAGE_BYTES = 64 * 1024


async def websocket(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text='{"code":"bad_origin"}', content_type="application/json")
    ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    session = SignallingSession(request.app, ws, await current_user(request))
    await session.run()
    return ws
