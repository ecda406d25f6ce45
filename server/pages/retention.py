"""The admin's retention page: each clinic's last access, inactivity warning and
cancellation; record a cancellation with its date, or withdraw it before the deletion."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from server.accounts import user_actor
from server.appkeys import REDIS
from server.auth.web import require_user, same_origin
from server.clock import local_day, now
from server.i18n import request_language
from server.pages.forms import read_form
from server.pages.render import format_day, format_time, render
from server.retention.cancellation import cancel_clinic
from server.retention.job import pilot_deletion_day
from server.retention.table import (
    CANCELLATION_NOTICE_SECONDS,
    DAY,
    INACTIVITY_SECONDS,
)
from server.store.audit import audit
from server.store.clinics import get_clinic, list_clinics
from server.store.retention import (
    cancellations,
    inactivity_warnings,
    last_access,
    pilot_ended,
    set_pilot_ended,
    withdraw_cancellation,
)
from server.store.users import User, UserRole

PATH = "/admin/retention"

routes = web.RouteTableDef()


async def _page(
    request: web.Request, user: User, status: int = 200, error: str = ""
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    seen = await last_access(redis)
    warned = await inactivity_warnings(redis)
    cancelled = {c.clinic_id: c for c in await cancellations(redis)}
    clinics = [
        {
            "id": clinic.id,
            "name": clinic.name,
            "ydernummer": clinic.ydernummer,
            "phone": clinic.phone,
            "last_access": format_time(seen.get(clinic.id), lang),
            "warned": format_time(warned.get(clinic.id), lang),
            "silent_until": format_time(seen[clinic.id] + INACTIVITY_SECONDS, lang)
            if clinic.id in seen
            else "",
            "cancelled_on": format_day(cancelled[clinic.id].cancelled_on, lang)
            if clinic.id in cancelled
            else "",
            "deleted_from": format_time(cancelled[clinic.id].delete_after, lang)
            if clinic.id in cancelled
            else "",
        }
        for clinic in await list_clinics(redis)
    ]
    deleted = [
        {
            "name": c.name,
            "ydernummer": c.ydernummer,
            "cancelled_on": format_day(c.cancelled_on, lang),
            "deleted": format_time(c.deleted_at, lang),
            "reason": c.reason,
        }
        for c in cancelled.values()
        if c.deleted_at is not None
    ]
    return render(
        request,
        "admin_retention.html",
        status=status,
        here=PATH,
        user=user,
        clinics=clinics,
        deleted=deleted,
        warned_count=len(warned),
        today=local_day(now()),
        notice_days=CANCELLATION_NOTICE_SECONDS // DAY,
        error=error,
        pilot_ended=format_day(ended, lang) if (ended := await pilot_ended(redis)) else "",
        pilot_deleted=format_day(pilot_deletion_day(ended), lang) if ended else "",
    )


@routes.get(PATH)
async def retention_page(request: web.Request) -> web.Response:
    return await _page(request, await require_user(request, UserRole.ADMIN))


@routes.post(PATH + "/clinics/{clinic_id}/cancel")
async def cancel_post(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site form refused")
    redis = request.app[REDIS]
    clinic = await get_clinic(redis, request.match_info["clinic_id"])
    if clinic is None:
        raise web.HTTPNotFound()
    day = str((await read_form(request)).get("cancelled_on", "")).strip()
    try:
        date.fromisoformat(day)
    except ValueError:
        return await _page(request, user, 422, "retention.bad_day")
    await cancel_clinic(redis, clinic.ydernummer, day, user_actor(user))
    raise web.HTTPSeeOther(PATH)


@routes.post(PATH + "/clinics/{clinic_id}/withdraw")
async def withdraw_post(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site form refused")
    redis = request.app[REDIS]
    clinic_id = request.match_info["clinic_id"]
    if await withdraw_cancellation(redis, clinic_id):
        await audit(redis, "clinic.cancellation_withdrawn", user_actor(user), clinic_id=clinic_id)
    raise web.HTTPSeeOther(PATH)


@routes.post(PATH + "/pilot-ended")
async def pilot_ended_post(request: web.Request) -> web.Response:
    """The note-taker pilot ended: its evidence is pseudonymised from that day."""
    user = await require_user(request, UserRole.ADMIN)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site form refused")
    day = str((await read_form(request)).get("ended_on", "")).strip()
    try:
        date.fromisoformat(day)
    except ValueError:
        return await _page(request, user, 422, "retention.bad_day")
    redis = request.app[REDIS]
    await set_pilot_ended(redis, day)
    await audit(redis, "pilot.notetaker_ended", user_actor(user), ended_on=day)
    raise web.HTTPSeeOther(PATH)
