"""`/healthz`: 200 when Redis answers, 503 with the reason when it does not."""

from __future__ import annotations

import asyncio

from aiohttp import web

from server.appkeys import REDIS, SETTINGS

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    instance = request.app[SETTINGS].instance_id
    try:
        async with asyncio.timeout(2):
            await request.app[REDIS].ping()
    except Exception as exc:
        reason = f"redis unreachable: {type(exc).__name__}"
        return web.json_response(
            {"status": "unavailable", "reason": reason, "instance": instance}, status=503
        )
    return web.json_response({"status": "ok", "redis": "ok", "instance": instance})
