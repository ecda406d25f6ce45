"""Every API module's operations, for the router and the OpenAPI document alike."""

from __future__ import annotations

from aiohttp import web

from server.api import (
    absences,
    consultations,
    directory,
    embed,
    events,
    invoices,
    notes,
    participants,
    webhook,
)
from server.api.openapi import openapi_document
from server.api.spec import ApiRoutes
from server.appkeys import SETTINGS
from server.webhooks.destination import LOCAL_WEBHOOK_URL_PATTERN, WEBHOOK_URL_PATTERN

API_ROUTES: list[ApiRoutes] = [
    consultations.routes,
    participants.routes,
    embed.routes,
    absences.routes,
    directory.routes,
    webhook.routes,
    events.routes,
    notes.routes,
    invoices.routes,
]


async def openapi_json(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    document = openapi_document(API_ROUTES, settings.public_base_url)
    if settings.webhook_allow_local:  # a development server says what it accepts too
        url = document["components"]["schemas"]["WebhookIn"]["properties"]["url"]
        url["pattern"] = f"{WEBHOOK_URL_PATTERN}|{LOCAL_WEBHOOK_URL_PATTERN}"
        url["description"] += "; this development server also takes http(s)://localhost"
    return web.json_response(document)


def add_api_routes(router: web.UrlDispatcher) -> None:
    for group in API_ROUTES:
        group.add_to(router)
    router.add_get("/api/v1/openapi.json", openapi_json)
