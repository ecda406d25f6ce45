"""The application factory: wiring only. Behaviour lives in the modules it wires."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from server.api.routes import add_api_routes
from server.appkeys import LOCALES, PRESENCE, REDIS, ROUTER, SETTINGS, SOCKETS, TEMPLATES
from server.fhir.routes import add_fhir_routes
from server.gcpolicy import keep_collections_short
from server.health import healthz
from server.i18n import Locales
from server.media.echo import echo_peers_ctx
from server.notetaker.live import notetakers_ctx
from server.pages import (
    admin,
    clinic,
    console,
    embed,
    invitation,
    notetaker,
    organisation,
    patient,
    precall,
)
from server.pages import budgets as budget_pages
from server.pages import directory as directory_pages
from server.pages import pilot as pilot_pages
from server.pages import programmes as programme_pages
from server.pages import statement as statement_pages
from server.pages import subscriptions as subscription_pages
from server.pages.render import Templates
from server.pilots.accrual import AccrualConsumer
from server.security import security_middleware
from server.settings import Settings
from server.signalling.clinicstate import announce_left
from server.signalling.endpoint import close_sockets, websocket
from server.signalling.presencekeeper import PresenceKeeper
from server.signalling.redisrouter import RedisRouter
from server.store.budgets import seed_lines_when_reachable, try_seed_lines
from server.store.connection import open_redis
from server.waitingroom.queue import sweep
from server.webhooks.delivery import Delivery

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_redis(app[SETTINGS]) as redis:
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
    router = RedisRouter(app[REDIS], f"av:ch:instance:{app[SETTINGS].instance_id}")
    app[ROUTER] = router
    async with in_background(router.run()):
        yield
    await router.stop()


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    app[PRESENCE] = PresenceKeeper(app[REDIS])
    async with in_background(app[PRESENCE].run()):
        yield


async def sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Remove patients who vanished from the waiting room, and tell their clinic."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                removed = await sweep(app[REDIS], app[SETTINGS].presence_grace_seconds)
                for c, score in removed:
                    await announce_left(app[REDIS], app[ROUTER], c, score, reason="vanished")
            except Exception:
                log.exception("waiting-room sweep failed")

    async with in_background(loop()):
        yield


async def webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    delivery = Delivery(app[REDIS], settings.instance_id, settings.webhook_policy)
    await delivery.prepare()
    async with in_background(delivery.run()):
        yield


async def honoraria_ctx(app: web.Application) -> AsyncIterator[None]:
    """Pilot honoraria accrue from the event stream (server/pilots/accrual.py)."""
    consumer = AccrualConsumer(app[REDIS], app[SETTINGS].instance_id)
    async with in_background(consumer.run()):
        yield


async def gc_ctx(app: web.Application) -> AsyncIterator[None]:
    async with in_background(keep_collections_short()):
        yield


async def favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(request.app[SETTINGS].web_dir / "static" / "icons" / "favicon.svg")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[security_middleware], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[TEMPLATES] = Templates(settings.web_dir / "templates")
    app[LOCALES] = Locales(settings.web_dir / "locales")
    app[SOCKETS] = set()
    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.extend(
        [
            redis_ctx,
            budget_lines_ctx,
            router_ctx,
            presence_ctx,
            sweeper_ctx,
            echo_peers_ctx,
            notetakers_ctx,
            gc_ctx,
            webhooks_ctx,
            honoraria_ctx,
        ]
    )
    app.router.add_get("/", console.index_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/login", console.login_page)
    app.router.add_post("/login", console.login)
    app.router.add_post("/logout", console.logout)
    app.router.add_get("/console", console.console_page)
    app.router.add_get("/embed/{token}", embed.embed_page)  # the LPS's iframe
    app.router.add_get("/clinic/settings", clinic.settings_page)
    app.router.add_post("/clinic/settings", clinic.save_settings)
    app.router.add_post("/clinic/absences", clinic.add_absence_post)
    app.router.add_post("/clinic/absences/{absence_id}/remove", clinic.remove_absence_post)
    app.router.add_get("/admin", admin.admin_page)
    app.router.add_post("/admin/organisations", admin.create_organisation_post)
    app.router.add_get("/admin/budgets", budget_pages.budgets_page)
    app.router.add_post("/admin/budgets/spendings", budget_pages.record_spending_post)
    app.router.add_get("/admin/budgets.csv", budget_pages.budgets_csv)
    app.router.add_get("/admin/subscriptions", subscription_pages.subscriptions_page)
    app.router.add_post("/admin/subscriptions/prices", subscription_pages.price_post)
    app.router.add_post(
        "/admin/subscriptions/clinics/{clinic_id}/capacities", subscription_pages.capacities_post
    )
    app.router.add_post(
        "/admin/subscriptions/clinics/{clinic_id}/vendor", subscription_pages.vendor_post
    )
    app.router.add_get("/admin/subscriptions/invoices.csv", subscription_pages.invoices_csv)
    app.router.add_get("/org", organisation.organisation_page)
    app.router.add_post("/org/staff", organisation.create_staff_post)
    app.router.add_post("/org/staff/{user_id}/password", organisation.reset_password_post)
    app.router.add_post("/org/staff/{user_id}/remove", organisation.remove_staff_post)
    app.router.add_post("/org/keys", organisation.issue_key_post)
    app.router.add_post("/org/keys/{key_id}/revoke", organisation.revoke_key_post)
    app.router.add_get("/j/{token}", patient.join_page)
    app.router.add_post("/j/{token}/join", patient.join)
    app.router.add_post("/j/{token}/echo", precall.echo)
    app.router.add_post("/j/{token}/precall", precall.precall)
    app.router.add_get("/i/{token}", invitation.invitation_page)
    app.router.add_post(
        "/console/consultations/{consultation_id}/invitations", invitation.invite_post
    )
    # The AI note-taker: the GP's audio tap, and the draft's review.
    app.router.add_post("/console/consultations/{consultation_id}/notetaker/tap", notetaker.tap)
    app.router.add_get("/console/consultations/{consultation_id}/note", notetaker.note_page)
    app.router.add_post("/console/consultations/{consultation_id}/note", notetaker.note_post)
    app.router.add_get("/d/{token}", patient.dropin_page)
    app.router.add_post("/d/{token}/join", patient.dropin_join)
    # The clinic directory for professionals (its export is in the API).
    app.router.add_get("/directory", directory_pages.directory_page)
    app.router.add_get("/directory/clinics/{ydernummer}", directory_pages.clinic_page)
    app.router.add_get("/pilot/notetaker", pilot_pages.notetaker_page)
    # Pilot programmes and honoraria: the admin's pages and a GP's own statement.
    app.router.add_get("/admin/programmes", programme_pages.programmes_page)
    app.router.add_post("/admin/programmes", programme_pages.create_programme_post)
    app.router.add_get("/admin/programmes/{programme_id}", programme_pages.programme_page)
    app.router.add_post("/admin/programmes/{programme_id}/{action}", programme_pages.programme_post)
    app.router.add_get(
        "/admin/programmes/{programme_id}/statements.csv", programme_pages.statements_csv
    )
    app.router.add_get("/statement", statement_pages.statement_page)
    app.router.add_get("/statement.csv", statement_pages.statement_csv)
    app.router.add_get("/pilot/notetaker.csv", pilot_pages.notetaker_csv)
    add_api_routes(app.router)
    # The FHIR R4 facade for LPS vendors (read-only; server/fhir).
    add_fhir_routes(app.router)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static", settings.web_dir / "static", append_version=False)
    return app
