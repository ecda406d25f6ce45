"""Typed keys for the objects the application shares between handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from server.settings import Settings
from server.store.connection import Redis

if TYPE_CHECKING:
    pass

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
ROUTER = web.AppKey["RedisRouter"]("router")
PRESENCE = web.AppKey["PresenceKeeper"]("presence")
# Every move of a consultation through the waiting room and the call (server.waitingroom.room).
ROOM = web.AppKey["Room"]("room")
TEMPLATES = web.AppKey["Templates"]("templates")
LOCALES = web.AppKey["Locales"]("locales")
# Live signalling sockets of this instance: closed with "going away" on shutdown so
# browsers reconnect to another instance at once.
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
# The line-test echo peers running on this instance (server.media.echo.EchoPeers).
ECHO_PEERS = web.AppKey["EchoPeers"]("echo_peers")
# The AI note-takers running on this instance (server.notetaker.live.LiveNoteTakers).
NOTETAKERS = web.AppKey["LiveNoteTakers"]("notetakers")
