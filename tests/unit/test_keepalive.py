"""The keep-alive round against real sockets: a tiny aiohttp server whose handler does what
the signalling session does (every frame is heard, a ping is answered), rounds driven by
hand so no test waits on a clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from server.signalling.keepalive import KeepAlive

Serve = Callable[..., Awaitable[TestServer]]


async def serve(aiohttp_server: Serve, keepalive: KeepAlive) -> tuple[TestServer, asyncio.Event]:
    ended = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        assert request.transport is not None
        keepalive.add(ws, request.transport)
        try:
            async for frame in ws:
                keepalive.heard(ws)
                if frame.type == WSMsgType.PING:
                    await ws.pong(frame.data)
        finally:
            keepalive.discard(ws)
            ended.set()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    return await aiohttp_server(app), ended


async def settle() -> None:
    """Long enough for a frame to go to the client and its answer to come back."""
    for _ in range(20):
        await asyncio.sleep(0.01)


async def test_a_socket_that_answers_pings_stays(aiohttp_server: Serve) -> None:
    keepalive = KeepAlive()
    server, ended = await serve(aiohttp_server, keepalive)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws"), autoping=True)
        reading = asyncio.create_task(ws.receive())  # the client answers pings as it reads
        for _ in range(6):
            await keepalive.beat()
            await settle()
        assert not ended.is_set()
        assert not ws.closed
        reading.cancel()
        await ws.close()


async def test_a_silent_socket_is_pinged_then_cut(aiohttp_server: Serve) -> None:
    keepalive = KeepAlive()
    server, ended = await serve(aiohttp_server, keepalive)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws"), autoping=False)
        await keepalive.beat()  # heard: it just connected
        await keepalive.beat()  # silent for a round: pinged
        ping = await asyncio.wait_for(ws.receive(), 5)
        assert ping.type == WSMsgType.PING  # and never answered
        assert not ended.is_set()
        await keepalive.beat()  # still silent after its ping: cut
        await asyncio.wait_for(ended.wait(), 5)
        closing = await asyncio.wait_for(ws.receive(), 5)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


async def test_any_frame_counts_as_an_answer(aiohttp_server: Serve) -> None:
    keepalive = KeepAlive()
    server, ended = await serve(aiohttp_server, keepalive)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws"), autoping=False)
        for _ in range(6):
            await keepalive.beat()
            await ws.send_str("still here")
            await settle()
        assert not ended.is_set()
        await ws.close()
