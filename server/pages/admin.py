"""The platform admin's page: every organisation, and a new one with its first admin.

An organisation is made together with its first organisation admin, whose generated
password is shown once; that admin then creates the organisation's staff (`/org`).
"""

from __future__ import annotations

from aiohttp import web

from server.accounts import Errors, Refused, create_organisation_with_admin, user_actor
from server.appkeys import REDIS
from server.auth.web import require_user
from server.i18n import request_language
from server.pages.forms import form_values, read_form
from server.pages.render import format_time, render
from server.pages.shownonce import show_once
from server.store.organisations import list_organisations, staff_count
from server.store.users import User, UserRole

ADMIN_PATH = "/admin"
ORGANISATION_FIELDS = ("name", "municipality_code", "username", "display_name")

routes = web.RouteTableDef()


async def _page(
    request: web.Request,
    user: User,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    organisations = [
        {
            "id": org.id,
            "name": org.name,
            "municipality_code": org.municipality_code,
            "created": format_time(org.created_at, lang),
            "staff": await staff_count(redis, org.id),
        }
        for org in await list_organisations(redis)
    ]
    return render(
        request,
        "admin.html",
        status=status,
        here=ADMIN_PATH,
        user=user,
        organisations=organisations,
        values=values or dict.fromkeys(ORGANISATION_FIELDS, ""),
        errors=errors or {},
    )


@routes.get(ADMIN_PATH)
async def admin_page(request: web.Request) -> web.Response:
    return await _page(request, await require_user(request, UserRole.ADMIN))


@routes.post(f"{ADMIN_PATH}/organisations")
async def create_organisation_post(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    values = form_values(await read_form(request), ORGANISATION_FIELDS)
    try:
        org, account = await create_organisation_with_admin(
            request.app[REDIS], user_actor(user), **values
        )
    except Refused as refused:
        return await _page(request, user, refused.status, values, refused.errors)
    return show_once(
        request,
        user,
        heading="admin.created_title",
        secret=account.password,
        back=ADMIN_PATH,
        details=[
            ("accounts.organisation", f"{org.name} ({org.municipality_code})"),
            ("accounts.username", account.user.username),
        ],
    )
