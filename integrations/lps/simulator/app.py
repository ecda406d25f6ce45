"""The simulator's application factory: wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from aiohttp import ClientError, ClientSession, web
from aiohttp.typedefs import Handler

from integrations.lps.simulator import pages, webhooks
from integrations.lps.simulator.api import AlmenvideoApi, ApiError
from integrations.lps.simulator.appkeys import API, BACKGROUND, CONFIG, RECORD, TEMPLATES
from integrations.lps.simulator.config import SimulatorConfig
from integrations.lps.simulator.record import Record

log = logging.getLogger(__name__)

HERE = Path(__file__).parent


async def api_ctx(app: web.Application) -> AsyncIterator[None]:
    """The API client, and the webhook registration that gives us our signing secret."""
    config, record = app[CONFIG], app[RECORD]
    async with ClientSession() as session:
        app[API] = AlmenvideoApi(session, config.api_base, config.api_key)
        record.webhook_secret = config.webhook_secret
        if record.webhook_secret is None:
            try:
                record.webhook_secret = await app[API].register_webhook(config.webhook_url)
            except (ApiError, ClientError) as error:
                record.webhook_status = pages.problem_text(error)
                log.warning("could not register the webhook: %s", record.webhook_status)
        yield
        for task in app[BACKGROUND].copy():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A policy on every page, and no form posts from other sites (webhooks come signed)."""
    if request.method == "POST" and request.path != "/webhooks":
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            raise web.HTTPForbidden(text="cross-site request refused")
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", pages.CSP.format(frame="'none'"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


async def healthz(request: web.Request) -> web.Response:
    webhooks = request.app[RECORD].webhook_secret is not None
    return web.json_response({"ok": True, "webhooks": webhooks})


def create_app(config: SimulatorConfig) -> web.Application:
    app = web.Application(middlewares=[headers_middleware])
    app[CONFIG] = config
    app[RECORD] = Record()
    app[BACKGROUND] = set()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    app[TEMPLATES].filters["local_time"] = pages.local_time
    app.cleanup_ctx.append(api_ctx)
    app.router.add_get("/", pages.calendar_page)
    app.router.add_post("/book", pages.book)
    app.router.add_get("/consultations/{consultation_id}", pages.consultation_page)
    app.router.add_post("/consultations/{consultation_id}/patient-link", pages.new_patient_link)
    app.router.add_post("/consultations/{consultation_id}/note", pages.file_note_post)
    app.router.add_get("/consultations/{consultation_id}/video", pages.video_page)
    app.router.add_get("/events", pages.events_page)
    app.router.add_post("/webhooks", webhooks.receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", HERE / "static")
    return app
