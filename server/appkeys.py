"""Typed keys for the objects the application shares between handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from server.auth.cprkey import CprKey
from server.settings import Settings
from server.store.connection import Redis
from server.store.embedded import EmbeddedRedis

if TYPE_CHECKING:
    from server.auth.passwordcheck import PasswordChecker
    from server.i18n import Locales
    from server.lazyroutes import LazyRoutes
    from server.media.echo import EchoPeers
    from server.notetaker.live import LiveNoteTakers
    from server.pages.render import Templates
    from server.signalling.keepalive import KeepAlive
    from server.signalling.placeboard import PlaceBoard
    from server.signalling.presencekeeper import PresenceKeeper
    from server.signalling.redisrouter import RedisRouter
    from server.store.coalescer import Coalescer
    from server.waitingroom.room import Room

SETTINGS = web.AppKey("settings", Settings)
# The embedded Redis `serve` began before it imported the app (server.store.embedded), if any.
EMBEDDED_REDIS = web.AppKey("embedded_redis", EmbeddedRedis)
REDIS = web.AppKey("redis", Redis)
ROUTER: web.AppKey[RedisRouter] = web.AppKey("router")
# Redis commands of the hot paths, gathered per turn of the loop (server.store.coalescer).
COALESCER: web.AppKey[Coalescer] = web.AppKey("coalescer")
PRESENCE: web.AppKey[PresenceKeeper] = web.AppKey("presence")
# Waiting patients' places on this instance, one queue listener per clinic (placeboard).
PLACES: web.AppKey[PlaceBoard] = web.AppKey("places")
# Every move of a consultation through the waiting room and the call (server.waitingroom.room).
ROOM: web.AppKey[Room] = web.AppKey("room")
# The key of the CPR hash, read from its file at start (never kept in Redis).
CPR_KEY = web.AppKey("cpr_key", CprKey)
TEMPLATES: web.AppKey[Templates] = web.AppKey("templates")
LOCALES: web.AppKey[Locales] = web.AppKey("locales")
# The pages', API's and FHIR routes, whose modules are imported after the start.
LAZY_ROUTES: web.AppKey[LazyRoutes] = web.AppKey("lazy_routes")
# Live signalling sockets of this instance: closed with "going away" on shutdown so
# browsers reconnect to another instance at once.
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
# Pings the silent ones among them and cuts the dead, in one round (server.signalling.keepalive).
KEEPALIVE: web.AppKey[KeepAlive] = web.AppKey("keepalive")
# Password checks, in a bounded thread pool off the event loop (server.auth.passwordcheck).
PASSWORDS: web.AppKey[PasswordChecker] = web.AppKey("passwords")
# The line-test echo peers running on this instance (server.media.echo.EchoPeers).
ECHO_PEERS: web.AppKey[EchoPeers] = web.AppKey("echo_peers")
# The AI note-takers running on this instance (server.notetaker.live.LiveNoteTakers).
NOTETAKERS: web.AppKey[LiveNoteTakers] = web.AppKey("notetakers")
