"""The organisation admin's page: the organisation's staff and its API keys.

An organisation admin manages only their own organisation: it comes from the session, never
from the URL, and a staff member or key of another organisation is looked up as if it did
not exist. New passwords and keys are shown once (`show_once`); the other changes redirect
back with a notice (post/redirect/get).
"""

from __future__ import annotations

from aiohttp import web

from server.accounts import (
    Errors,
    Refused,
    create_staff,
    issue_key,
    remove_account,
    reset_password,
    revoke_key,
    user_actor,
)
from server.appkeys import REDIS
from server.auth.tokens import looks_like_id
from server.auth.web import require_user
from server.i18n import request_language
from server.pages.forms import form_values, read_form
from server.pages.render import format_time, render
from server.pages.shownonce import show_once
from server.store.organisations import Organisation, get_organisation, organisation_keys
from server.store.users import User, UserRole, get_user, organisation_users

ORG_PATH = "/org"
STAFF_FIELDS = ("username", "display_name", "title", "role")
KEY_FIELDS = ("label",)
NOTICES = ("removed", "revoked", "gone")

routes = web.RouteTableDef()


async def _org_admin(request: web.Request) -> tuple[User, Organisation]:
    user = await require_user(request, UserRole.ORG_ADMIN)
    org = await get_organisation(request.app[REDIS], user.organisation_id)
    if org is None:
        raise web.HTTPNotFound()
    return user, org


async def _member(request: web.Request, org: Organisation) -> User | None:
    """The staff member named in the URL, if they belong to this organisation."""
    user_id = request.match_info["user_id"]
    member = await get_user(request.app[REDIS], user_id) if looks_like_id(user_id) else None
    return member if member is not None and member.organisation_id == org.id else None


def _done(what: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{ORG_PATH}?done={what}")


def _show_password(
    request: web.Request, user: User, heading: str, member: User, password: str
) -> web.Response:
    return show_once(
        request,
        user,
        heading,
        password,
        ORG_PATH,
        [("accounts.display_name", member.display_name), ("accounts.username", member.username)],
    )


async def _page(
    request: web.Request,
    user: User,
    org: Organisation,
    status: int = 200,
    staff_values: dict[str, str] | None = None,
    staff_errors: Errors | None = None,
    key_values: dict[str, str] | None = None,
    key_errors: Errors | None = None,
    alert: str | None = None,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    notice = request.query.get("done")
    return render(
        request,
        "organisation.html",
        status=status,
        here=ORG_PATH,
        user=user,
        organisation=org,
        staff=await organisation_users(redis, org.id),
        keys=[
            {"id": k.id, "label": k.label, "created": format_time(k.created_at, lang)}
            for k in await organisation_keys(redis, org.id)
        ],
        roles=(UserRole.STAFF, UserRole.ORG_ADMIN),
        staff_values=staff_values or dict.fromkeys(STAFF_FIELDS, "") | {"role": UserRole.STAFF},
        staff_errors=staff_errors or {},
        key_values=key_values or dict.fromkeys(KEY_FIELDS, ""),
        key_errors=key_errors or {},
        notice=notice if notice in NOTICES else None,
        alert=alert,
    )


@routes.get(ORG_PATH)
async def organisation_page(request: web.Request) -> web.Response:
    user, org = await _org_admin(request)
    return await _page(request, user, org)


@routes.post(f"{ORG_PATH}/staff")
async def create_staff_post(request: web.Request) -> web.Response:
    user, org = await _org_admin(request)
    values = form_values(await read_form(request), STAFF_FIELDS)
    try:
        account = await create_staff(request.app[REDIS], user_actor(user), org.id, **values)
    except Refused as refused:
        return await _page(
            request, user, org, refused.status, staff_values=values, staff_errors=refused.errors
        )
    return _show_password(request, user, "org.created_title", account.user, account.password)


@routes.post(ORG_PATH + "/staff/{user_id}/password")
async def reset_password_post(request: web.Request) -> web.Response:
    user, org = await _org_admin(request)
    member = await _member(request, org)
    if member is None:
        raise _done("gone")
    if member.id == user.id:
        return await _page(request, user, org, 409, alert="org.error.self")
    password = await reset_password(request.app[REDIS], user_actor(user), member)
    return _show_password(request, user, "org.reset_title", member, password)


@routes.post(ORG_PATH + "/staff/{user_id}/remove")
async def remove_staff_post(request: web.Request) -> web.Response:
    """Removing someone already gone (a second click), or not ours, changes nothing."""
    user, org = await _org_admin(request)
    member = await _member(request, org)
    if member is None:
        raise _done("gone")
    if member.id == user.id:
        return await _page(request, user, org, 409, alert="org.error.self")
    await remove_account(request.app[REDIS], user_actor(user), member)
    raise _done("removed")


@routes.post(f"{ORG_PATH}/keys")
async def issue_key_post(request: web.Request) -> web.Response:
    user, org = await _org_admin(request)
    values = form_values(await read_form(request), KEY_FIELDS)
    try:
        key = await issue_key(request.app[REDIS], user_actor(user), org.id, values["label"])
    except Refused as refused:
        return await _page(
            request, user, org, refused.status, key_values=values, key_errors=refused.errors
        )
    return show_once(
        request, user, "org.key_title", key, ORG_PATH, [("org.key_label", values["label"])]
    )


@routes.post(ORG_PATH + "/keys/{key_id}/revoke")
async def revoke_key_post(request: web.Request) -> web.Response:
    user, org = await _org_admin(request)
    revoked = await revoke_key(
        request.app[REDIS], user_actor(user), org.id, request.match_info["key_id"]
    )
    raise _done("revoked" if revoked else "gone")
