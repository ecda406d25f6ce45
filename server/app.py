"""The application factory: wiring only. Behaviour lives in the modules it wires."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import health, logredaction
from server.appkeys import (
    COALESCER,
    CPR_KEY,
    EMBEDDED_REDIS,
    KEEPALIVE,
    LAZY_ROUTES,
    LOCALES,
    PASSWORDS,
    PLACES,
    PRESENCE,
    REDIS,
    ROOM,
    ROUTER,
    SETTINGS,
    SOCKETS,
    TEMPLATES,
)
from server.auth.cprkey import load_cpr_key
from server.auth.passwordcheck import PasswordChecker
from server.clock import now
from server.gcpolicy import keep_collections_short
from server.honoraria.accrual import accrual_consumer
from server.i18n import Locales
from server.lazyroutes import LazyRoutes
from server.media.echo import echo_peers_ctx
from server.notetaker.live import notetakers_ctx
from server.pages.render import Templates
from server.retention.job import RETENTION_INTERVAL_SECONDS, run_once_locked
from server.routetable import ROUTES
from server.security import security_middleware
from server.settings import Settings
from server.signalling.endpoint import close_sockets, websocket
from server.signalling.keepalive import KeepAlive
from server.signalling.liveness import Liveness
from server.signalling.placeboard import PlaceBoard
from server.signalling.presencekeeper import BEAT_SECONDS, PresenceKeeper
from server.signalling.redisrouter import RedisRouter
from server.store.budgets import seed_lines_when_reachable, try_seed_lines
from server.store.coalescer import Coalescer
from server.store.connection import open_redis
from server.store.embedded import EmbeddedRedis
from server.waitingroom.room import Room
from server.warmup import import_the_rest
from server.webhooks.delivery import Delivery

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_redis(app[SETTINGS], app.get(EMBEDDED_REDIS)) as redis:
        app[REDIS] = redis
        yield


async def budget_lines_ctx(app: web.Application) -> AsyncIterator[None]:
    """The road map's budget lines are seeded (idempotently) before the first page is served,
    or, by an instance that started before its Redis, as soon as Redis answers."""
    if await try_seed_lines(app[REDIS]):
        yield
        return
    async with in_background(seed_lines_when_reachable(app[REDIS])):
        yield


@asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` while the app runs; cancel it at shutdown.

    The cancel is repeated until the task ends: on Python 3.11 a cancel that lands while a
    Redis call is in flight can be swallowed (redis-py's use of asyncio.wait_for), and a
    loop that carried on would hold the shutdown forever."""
    task = asyncio.create_task(work)
    yield
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def router_ctx(app: web.Application) -> AsyncIterator[None]:
    app[COALESCER] = coalescer = Coalescer(app[REDIS])
    router = RedisRouter(app[REDIS], f"av:ch:instance:{app[SETTINGS].instance_id}", coalescer)
    app[ROUTER] = router
    app[ROOM] = Room(app[REDIS], router)
    app[PLACES] = PlaceBoard(router)
    async with in_background(router.run()):
        yield
    await router.stop()


async def keepalive_ctx(app: web.Application) -> AsyncIterator[None]:
    app[KEEPALIVE] = KeepAlive()
    async with in_background(app[KEEPALIVE].run()):
        yield


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    app[PRESENCE] = PresenceKeeper(app[REDIS], app[ROOM], app[SETTINGS].instance_id)
    async with in_background(app[PRESENCE].run()):
        yield


async def liveness_ctx(app: web.Application) -> AsyncIterator[None]:
    """Say this instance is alive; find the others that died and show their patients as
    disconnected (server/signalling/liveness.py)."""
    liveness = Liveness(app[REDIS], app[ROOM], app[PRESENCE])
    await liveness.start()
    async with in_background(liveness.run()):
        yield
    await liveness.stop()


async def sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Remove patients who vanished from the waiting room, and tell their clinic. After
    failing to reach Redis, the first thing this instance does once it is back is to hold
    every sweep for a grace and a presence round (on every instance: the hold is in Redis),
    and to refresh its own patients' presence at once."""
    grace = app[SETTINGS].presence_grace_seconds

    async def loop() -> None:
        unreachable = False
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                if unreachable:
                    await app[ROOM].hold_sweeps(grace + BEAT_SECONDS)
                    await app[PRESENCE].beat()
                    unreachable = False
                await app[ROOM].sweep(grace)
            except (RedisConnectionError, RedisTimeoutError):
                unreachable = True
                log.warning("waiting-room sweep: Redis unreachable")
            except Exception:
                log.exception("waiting-room sweep failed")

    async with in_background(loop()):
        yield


async def webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    delivery = Delivery(
        app[REDIS],
        settings.instance_id,
        settings.webhook_policy,
        allow_local=settings.webhook_allow_local,
    )
    await delivery.prepare()
    async with in_background(delivery.run()):
        yield


async def honoraria_ctx(app: web.Application) -> AsyncIterator[None]:
    """Pilot honoraria accrue from the event stream (server/honoraria/accrual.py)."""
    consumer = accrual_consumer(app[REDIS], app[SETTINGS].instance_id)
    async with in_background(consumer.run()):
        yield


async def passwords_ctx(app: web.Application) -> AsyncIterator[None]:
    app[PASSWORDS] = PasswordChecker()
    yield
    app[PASSWORDS].close()


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """The retention job (server/retention/job.py): every instance tries hourly, and the
    lock in Redis lets one of them run at a time."""
    holder = f"instance:{app[SETTINGS].instance_id}"

    async def loop() -> None:
        while True:
            await asyncio.sleep(RETENTION_INTERVAL_SECONDS)
            try:
                await run_once_locked(app[REDIS], holder, now())
            except Exception:
                log.exception("retention job failed")

    async with in_background(loop()):
        yield


async def warmup_ctx(app: web.Application) -> AsyncIterator[None]:
    """What the start left out is imported in a thread: the routes' modules at once, the
    rest soon after (server/warmup.py)."""
    async with in_background(import_the_rest(app[LAZY_ROUTES])):
        yield


async def gc_ctx(app: web.Application) -> AsyncIterator[None]:
    async with in_background(keep_collections_short()):
        yield


def create_app(settings: Settings, embedded: EmbeddedRedis | None = None) -> web.Application:
    """`embedded`: the embedded Redis, if `serve` began it already (server.store.embedded)."""
    logredaction.install()  # before the first request can log a token
    app = web.Application(middlewares=[security_middleware], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    if embedded is not None:
        app[EMBEDDED_REDIS] = embedded
    app[CPR_KEY] = load_cpr_key(settings)
    app[TEMPLATES] = Templates(settings.web_dir / "templates")
    app[LOCALES] = Locales(settings.web_dir / "locales")
    app[SOCKETS] = set()
    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.extend(
        [
            warmup_ctx,
            redis_ctx,
            passwords_ctx,
            budget_lines_ctx,
            router_ctx,
            presence_ctx,
            keepalive_ctx,
            liveness_ctx,
            sweeper_ctx,
            echo_peers_ctx,
            notetakers_ctx,
            gc_ctx,
            webhooks_ctx,
            honoraria_ctx,
            retention_ctx,
        ]
    )
    app.add_routes(health.routes)
    app.router.add_get("/ws", websocket)
    # The pages', API's and FHIR routes: all on the router now, their modules imported
    # just after the start (server/lazyroutes.py).
    app[LAZY_ROUTES] = LazyRoutes(ROUTES)
    app[LAZY_ROUTES].add_to(app.router)
    app.router.add_static("/static", settings.web_dir / "static", append_version=False)
    return app
