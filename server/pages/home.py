"""The site's front door: the start page, and the icon browsers ask for at the root."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import SETTINGS
from server.pages.render import render

routes = web.RouteTableDef()


@routes.get("/")
async def index_page(request: web.Request) -> web.Response:
    return render(request, "index.html")


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(request.app[SETTINGS].web_dir / "static" / "icons" / "favicon.svg")
