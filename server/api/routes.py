"""Every API module's operations, for the router and the OpenAPI document alike."""

from __future__ import annotations

from aiohttp import web

from server.api import (
    absences,
    consultations,
    directory,
    embed,
    events,
    notes,
    participants,
    webhook,
)
from server.api.openapi import openapi_document
from server.api.spec import ApiRoutes
from server.appkeys import SETTINGS

API_ROUTES: list[ApiRoutes] = [
    consultations.routes,
    participants.routes,
    embed.routes,
    absences.routes,
    directory.routes,
    webhook.routes,
    events.routes,
    notes.routes,
]


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(API_ROUTES, request.app[SETTINGS].public_base_url))


def add_api_routes(router: web.UrlDispatcher) -> None:
    for group in API_ROUTES:
        group.add_to(router)
    router.add_get("/api/v1/openapi.json", openapi_json)
