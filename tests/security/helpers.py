"""Short ways to attack: speaking from an address, and watching a socket be closed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType

# The close code of a socket whose login ended (server.signalling.session).
SESSION_ENDED = 4003


def from_address(address: str) -> dict[str, str]:
    """Headers that make a request come from `address`, behind the `proxied` app's proxy."""
    return {"X-Forwarded-For": address}


@dataclass(frozen=True)
class Closed:
    messages: list[dict[str, Any]]  # what the socket was sent before
    code: int | None  # the code in the server's close frame, as a browser reports it


async def until_closed(ws: ClientWebSocketResponse) -> Closed:
    """Everything the socket is sent until the server closes it (fails if it never does).
    The code is the close frame's: the server may drop the connection before the client's
    answer, which leaves the client's own `close_code` at 1006, while a browser reports the
    code of the close frame it received."""
    seen = []
    while True:
        frame = await ws.receive(timeout=5)
        if frame.type == WSMsgType.TEXT:
            seen.append(frame.json())
        elif frame.type == WSMsgType.CLOSE:
            return Closed(seen, int(frame.data))
        elif frame.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
            return Closed(seen, ws.close_code)
        else:
            raise AssertionError(frame)
