"""Keeping every signalling socket of this instance alive, in one round for all of them.

A socket whose browser vanished without closing (a laptop lid, a lost network) must be
found dead, so that its patient's grace period starts and the clinic sees them offline.
aiohttp's own heartbeat does this with a ping task and two timers per socket, rescheduled
on every frame received: with ten thousand patients waiting that was a sixth of what an
instance did. One round every `ROUND_SECONDS` instead:
- a socket heard from since the last round is left alone;
- a socket silent for a whole round is pinged (every browser answers a ping by itself);
- a socket pinged last round and still silent is taken for dead, and its connection cut.

So a silent socket is pinged every two rounds and a dead one is cut two to three rounds
after it was last heard: with 7.5 s rounds, as aiohttp's `heartbeat=15` did (a ping after
15 s of silence, 7.5 s to answer it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

log = logging.getLogger(__name__)

ROUND_SECONDS = 7.5
PING_CHUNK = 200  # pings sent before other work gets a turn
PING_PATIENCE_SECONDS = 1.0  # a socket that cannot take a ping in this long is dead


class KeepAlive:
    def __init__(self, round_seconds: float = ROUND_SECONDS) -> None:
        self.round_seconds = round_seconds
        self._sockets: dict[web.WebSocketResponse, asyncio.Transport] = {}
        self._heard: set[web.WebSocketResponse] = set()
        self._pinged: set[web.WebSocketResponse] = set()

    def add(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self._sockets[ws] = transport
        self._heard.add(ws)

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._sockets.pop(ws, None)
        self._heard.discard(ws)
        self._pinged.discard(ws)

    def heard(self, ws: web.WebSocketResponse) -> None:
        """Any frame from the browser, a pong included, shows the socket alive."""
        self._heard.add(ws)

    async def beat(self) -> None:
        heard, self._heard = self._heard, set()
        pinged, self._pinged = self._pinged, set()
        silent: list[web.WebSocketResponse] = []
        for ws, transport in list(self._sockets.items()):
            if ws in heard or ws.closed:
                continue
            if ws in pinged:
                log.info("a socket did not answer its ping; cutting it")
                self._cut(ws, transport)
            else:
                silent.append(ws)
        for start in range(0, len(silent), PING_CHUNK):
            await self._ping(silent[start : start + PING_CHUNK])
            await asyncio.sleep(0)

    async def _ping(self, sockets: list[web.WebSocketResponse]) -> None:
        """Ping these sockets. Writing a ping does not wait unless the socket's buffer is
        full; one deadline for the whole chunk (not a timer per ping) cuts a socket that
        blocks it, and the chunk goes on with the next."""
        pending = iter(sockets)
        ws: web.WebSocketResponse | None = None
        while True:
            try:
                async with asyncio.timeout(PING_PATIENCE_SECONDS):
                    for ws in pending:
                        if ws in self._sockets and not ws.closed:
                            self._pinged.add(ws)
                            # Closing already (its handler is finishing): nothing to do.
                            with contextlib.suppress(ConnectionError, RuntimeError):
                                await ws.ping()
                return
            except TimeoutError:
                if ws is not None and ws in self._sockets:
                    self._cut(ws, self._sockets[ws])

    def _cut(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        """Abort the connection (a close would wait to send to a peer that is gone): its
        handler reads the end and lets go of the seat."""
        self.discard(ws)
        transport.abort()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.round_seconds)
            try:
                await self.beat()
            except Exception:
                log.exception("keep-alive round failed")
