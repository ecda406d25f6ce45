"""The ICE servers of the server's own media peers: the same as a browser in a call gets.

A line test that cannot use TURN would fail behind a UDP-blocked firewall where the call
itself works through TURN, so the echo and the note-taker's tap take every STUN and TURN
URL and fresh TURN credentials per peer (they expire). aiortc uses the first STUN URL and
the first TURN URL it supports of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth.turn import ice_servers
from server.settings import Settings

if TYPE_CHECKING:
    from aiortc import RTCConfiguration


def rtc_configuration(settings: Settings, user: str) -> RTCConfiguration:
    """An empty list, not None, when nothing is configured: None would make aiortc fall
    back to a public STUN server."""
    from aiortc import RTCConfiguration, RTCIceServer  # made with a peer (server/media/echo.py)

    servers = []
    for server in ice_servers(settings, user):
        urls, username, credential = (
            server["urls"],
            server.get("username"),
            server.get("credential"),
        )
        assert isinstance(urls, list)
        servers.append(
            RTCIceServer(
                urls=[str(url) for url in urls],
                username=None if username is None else str(username),
                credential=None if credential is None else str(credential),
            )
        )
    return RTCConfiguration(iceServers=servers)
