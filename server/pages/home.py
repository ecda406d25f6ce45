"""The site's front door: the start page, and the icon browsers ask for at the root.

Every error page links here, so a logged-in visitor finds their own start page from it."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import SETTINGS
from server.auth.web import current_user
from server.pages.render import render
from server.store.users import UserRole

# Where each role lands after logging in, unless the login was for a particular page.
HOME = {
    UserRole.GP: "/console",
    UserRole.STAFF: "/directory",
    UserRole.ORG_ADMIN: "/org",
    UserRole.ADMIN: "/admin",
}

routes = web.RouteTableDef()


@routes.get("/")
async def index_page(request: web.Request) -> web.Response:
    user = await current_user(request)
    return render(request, "index.html", start=HOME[user.role] if user else None)


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(request.app[SETTINGS].web_dir / "static" / "icons" / "favicon.svg")
