"""The admin's readable answer to a patient's access request (GDPR art. 15): the same
content as `almenvideo subject-export`, on a page. The CPR number is posted, never put in
a URL, and matched through its keyed hash; every export is audited."""

from __future__ import annotations

import json

from aiohttp import web

from server.accounts import user_actor
from server.appkeys import CPR_KEY, REDIS
from server.auth.web import require_user, same_origin
from server.pages.forms import read_form
from server.pages.render import render
from server.retention.subject import export_for
from server.store.audit import audit
from server.store.users import User, UserRole

PATH = "/admin/subject"

routes = web.RouteTableDef()


def _page(
    request: web.Request,
    user: User,
    found: dict[str, object] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    consultations = found["consultations"] if found else []
    return render(
        request,
        "admin_subject.html",
        status=status,
        here=PATH,
        user=user,
        found=found,
        consultations=consultations,
        audit_entries=found["audit"] if found else [],
        error=error,
        as_json=lambda value: json.dumps(value, ensure_ascii=False, indent=2),
    )


@routes.get(PATH)
async def subject_page(request: web.Request) -> web.Response:
    return _page(request, await require_user(request, UserRole.ADMIN))


@routes.post(PATH)
async def subject_post(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site form refused")
    form = await read_form(request)
    cpr = str(form.get("cpr", "")).strip()
    consultation = str(form.get("consultation", "")).strip()[:64]
    if not cpr and not consultation:
        return _page(request, user, error="subject.missing", status=422)
    redis = request.app[REDIS]
    try:
        found = await export_for(redis, request.app[CPR_KEY], cpr=cpr, consultation=consultation)
    except ValueError:
        return _page(request, user, error="subject.bad_cpr", status=422)
    ids = [c["consultation"]["id"] for c in found["consultations"]]
    await audit(redis, "subject.exported", user_actor(user), consultation_ids=ids)
    return _page(request, user, found)
